"""Pipeline set-up: CreatePipeline to the first frame at the sink, median of 10, over the same
chain connected and started by hand with the module calls (issue 11).

The chain is sources/testsrc -> transcoder/transcode -> recorder/file, three module
processes of the reference stack supervised by `mediagrid up` (a process). Each run makes a
new pipeline over the same three entities: through the orchestrator, `CreatePipeline` (plan,
connect hop by hop, start from the sinks upstream); by hand, the same ConnectEntities
(TARGET, then SOURCE) and StartFlow calls straight to the modules. The clock stops when the
recorder's flow part has measured its first frame (polled every 10 ms on the recorder
itself, the same way for both). Runs alternate. Last line: `pipeline_setup_ratio: X`.

    python bench/pipeline_setup_ratio.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _orchestrated import orchestrated  # noqa: E402

from mediagrid.reference.modules.wiring import Entity, Flow, ModuleClient  # noqa: E402
from mediagrid.reference.stacks.model import reference_modules  # noqa: E402
from mediagrid.v1 import orchestrator_pb2, pipeline_pb2  # noqa: E402

op = orchestrator_pb2


def first_frame(recorder: ModuleClient, flow_id: str, began: float) -> float:
    while True:
        try:
            flow = recorder.flow(flow_id)
            if any(c.metrics.frames > 0 for c in flow.connections):
                return time.perf_counter() - began
        except grpc.RpcError:
            pass
        if time.perf_counter() - began > 60:
            raise TimeoutError(f"no frame at the recorder for {flow_id} in 60 s")
        time.sleep(0.01)


def make(stub: object, module_id: str, entity_type: str, entity_id: str, **config: str) -> None:
    request = op.OrchestratorServiceCreateEntityRequest(module_id=module_id)
    request.request.entity_type, request.request.entity_id = entity_type, entity_id
    request.request.media_type = 2
    request.request.config.update(config)
    stub.CreateEntity(request, timeout=30)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, \
            orchestrated(reference_modules(), ready=4) as (stub, modules, _):
        make(stub, "sources", "testsrc", "pattern", size="320x240", rate="25")
        make(stub, "transcoder", "transcode", "small", size="160x120", bitrate="300k")
        make(stub, "recorder", "file", "rec", path=f"{folder}/rec.mkv")
        clients = {m: ModuleClient(modules[m]) for m in ("sources", "transcoder", "recorder")}
        ref = {e: op.EntityRef(module_id=m, entity_id=e) for m, e in
               (("sources", "pattern"), ("transcoder", "small"), ("recorder", "rec"))}
        ours: list[float] = []
        base: list[float] = []
        for n in range(args.runs * 2):
            began = time.perf_counter()
            if n % 2 == 0:
                stub.CreatePipeline(op.CreatePipelineRequest(
                    pipeline_id=f"auto{n}", source=ref["pattern"], sink=ref["rec"],
                    via=[ref["small"]], start=True), timeout=60)
                ours.append(first_frame(clients["recorder"], f"auto{n}", began))
                stub.DeletePipeline(op.DeletePipelineRequest(pipeline_id=f"auto{n}"), timeout=60)
            else:
                flow = Flow(f"hand{n}")
                pattern = Entity(clients["sources"], "pattern")
                small = Entity(clients["transcoder"], "small")
                rec = Entity(clients["recorder"], "rec")
                flow.connect(f"hand{n}-2", small, rec)  # the sink's hop first, as the planner
                flow.connect(f"hand{n}-1", pattern, small)
                flow.connections.reverse()  # source to sink
                flow.start()
                base.append(first_frame(clients["recorder"], f"hand{n}", began))
                flow.stop()
                for c in flow.connections:
                    for client in {c.source.module.address: c.source.module,
                                   c.target.module.address: c.target.module}.values():
                        client.pipeline.DisconnectEntities(
                            pipeline_pb2.DisconnectEntitiesRequest(connection_id=c.id),
                            timeout=30)
        for client in clients.values():
            client.close()
    print(f"CreatePipeline to first frame, median of {len(ours)}:"
          f" {statistics.median(ours) * 1e3:.0f} ms (runs: "
          f"{', '.join(f'{t * 1e3:.0f}' for t in ours)})")
    print(f"by hand to first frame, median of {len(base)}: {statistics.median(base) * 1e3:.0f} ms"
          f" (runs: {', '.join(f'{t * 1e3:.0f}' for t in base)})")
    print(f"pipeline_setup_ratio: {statistics.median(ours) / statistics.median(base):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
