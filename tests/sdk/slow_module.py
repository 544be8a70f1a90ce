"""A module whose entity hook takes seconds: HealthCheck must still answer at once."""

import asyncio

from mediagrid import sdk

module = sdk.Module("slow", version="0.0.1")


@module.entity(sdk.EntityType("sleepy", kind="source", media_types=["video"],
                              config={"type": "object",
                                      "properties": {"seconds": {"type": "string"}}}))
class Sleepy(sdk.Entity):
    async def create(self) -> None:
        await asyncio.sleep(float(self.config.get("seconds", "0")))


if __name__ == "__main__":
    sdk.serve(module)
