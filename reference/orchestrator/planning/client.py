"""The client side of `mediagrid pipeline` and the flows table of `mediagrid status`."""

from __future__ import annotations

import argparse
import json
from typing import Any

import grpc
from google.protobuf import json_format
from rich.console import Console
from rich.markup import escape

from mediagrid.reference.orchestrator.dial import dial, requested_tls, token_metadata
from mediagrid.reference.orchestrator.planning.views import (
    flow_errors,
    flow_table,
    list_flows,
    state_of,
)
from mediagrid.reference.orchestrator.status import _fail, _unreachable
from mediagrid.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

op = orchestrator_pb2
EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
def to_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


async def run_pipeline_command(args: argparse.Namespace) -> int:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        async with dial(args.address, requested_tls(args)) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            if args.action == "create":
                return await _create(stub, args, err)
            if args.action == "list":
                flows = await list_flows(stub, token_metadata(), args.all)
                if args.json:
                    print(json.dumps({"ok": True, "flows": [to_json(f) for f in flows]},
                                     indent=2))
                elif flows:
                    out = Console(highlight=False)
                    out.print(flow_table(flows))
                    for line in flow_errors(flows):
                        out.print(line)
                else:
                    err.print("no flows: make one with `mediagrid pipeline create SOURCE SINK`")
                return EXIT_OK
            response = await stub.DeletePipeline(op.DeletePipelineRequest(
                pipeline_id=args.pipeline_id), timeout=60, metadata=token_metadata())
            if args.json:
                print(json.dumps({"ok": True, **to_json(response)}, indent=2))
            elif response.deleted:
                err.print(f"deleted {escape(args.pipeline_id)}: removed"
                          f" {len(response.removed_connections)} connections and"
                          f" {len(response.destroyed_entities)} converters")
            else:
                err.print(f"{escape(args.pipeline_id)} was already deleted")
            return EXIT_OK
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return _fail(err, args.json, f"{code.name}: {exc.details()}", EXIT_INVALID)
        if code is grpc.StatusCode.UNAVAILABLE and "not READY" not in (exc.details() or ""):
            return _fail(err, args.json, _unreachable(args.address, exc))
        return _fail(err, args.json, f"{code.name}: {exc.details()}")


async def _create(stub: orchestrator_pb2_grpc.OrchestratorServiceStub, args: argparse.Namespace,
                  err: Console) -> int:
    request = op.CreatePipelineRequest(
        pipeline_id=args.id, name=args.name, start=not args.no_start,
        transport_protocol=args.transport,
        source=op.EntityRef(module_id=args.source[0], entity_id=args.source[1]),
        sink=op.EntityRef(module_id=args.sink[0], entity_id=args.sink[1]),
        via=[op.EntityRef(module_id=m, entity_id=e) for m, e in args.via])
    if args.media:
        request.media_type = common_pb2.MediaType.Value(f"MEDIA_TYPE_{args.media.upper()}")
    quality = request.quality
    if args.codec:
        if args.media == "audio":
            quality.audio_codec = args.codec
        elif args.media == "video":
            quality.video_codec = args.codec
        else:  # the codec's own media type says which field
            from mediagrid.codecs import media_of
            if media_of(args.codec) == "audio":
                quality.audio_codec = args.codec
            else:
                quality.video_codec = args.codec
    if args.size:
        quality.resolution.width, quality.resolution.height = args.size
    if args.bitrate:
        quality.bitrate = args.bitrate
    if args.fps:
        quality.framerate = args.fps
    response = await stub.CreatePipeline(request, timeout=120, metadata=token_metadata())
    if args.json:
        print(json.dumps({"ok": True, **to_json(response)}, indent=2))
        return EXIT_OK
    made = ", ".join(f"{e.module_id}/{e.entity_id}" for e in response.created_entities)
    err.print(f"pipeline [bold]{escape(response.flow.id)}[/]: {state_of(response.flow)}"
              + (f"; created converters {escape(made)}" if made else ""))
    for hop in response.plan:
        err.print(f"  {escape(hop)}")
    print(response.flow.id)
    return EXIT_OK
