"""A module whose hooks take long: HealthCheck must still answer at once, and a shutdown must
still end the process within its grace. SLOW_STARTUP_SECONDS delays READY."""

import asyncio
import os

from mediagrid import sdk

module = sdk.Module("slow", version="0.0.1")


@module.on_startup
async def slow_start(runtime: sdk.ModuleRuntime) -> None:
    await asyncio.sleep(float(os.environ.get("SLOW_STARTUP_SECONDS", "0")))


@module.entity(sdk.EntityType("sleepy", kind="source", media_types=["video"],
                              config={"type": "object",
                                      "properties": {"seconds": {"type": "string"}}}))
class Sleepy(sdk.Entity):
    async def create(self) -> None:
        await asyncio.sleep(float(self.config.get("seconds", "0")))


@module.entity(sdk.EntityType("stuck", kind="source", media_types=["video"]))
class Stuck(sdk.Entity):
    async def destroy(self) -> None:
        await asyncio.sleep(3600)  # never finishes on its own


if __name__ == "__main__":
    sdk.serve(module)
