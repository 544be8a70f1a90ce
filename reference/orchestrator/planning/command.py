"""`mediagrid pipeline create|list|delete`: pipelines of a running orchestrator.

    mediagrid pipeline create sources/pattern recorder/recording --codec h264 --size 640x360
    mediagrid pipeline list
    mediagrid pipeline delete pipe-1a2b3c4d5e6f
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

from mediagrid.reference.orchestrator.dial import add_tls_options

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
DEFAULT_ADDRESS = "127.0.0.1:50050"

EPILOG = """\
examples:
  mediagrid pipeline create sources/pattern recorder/recording
      plan and start a pipeline from an entity to another (MODULE/ENTITY); the orchestrator
      adds converters where the sink cannot take what the source sends
  mediagrid pipeline create sources/cam display/screen --codec h264 --size 640x360 --id door
      ask a codec and a picture size at the sink; name the pipeline
  mediagrid pipeline create sources/pattern recorder/rec --via transcoder/small
      pass through a converter you made yourself
  mediagrid pipeline list --json
      every flow with its state and live numbers, as JSON
  mediagrid pipeline delete door
      stop it, remove its connections and the converters it made

exit codes:
  0  done
  1  no orchestrator answered, or it could not do it (no path: the message says what is
     missing, with both sides' codecs)
  2  invalid input (a malformed MODULE/ENTITY, an unknown pipeline id)
"""

REF = re.compile(r"^([a-z][a-z0-9-]{0,62})/([a-z0-9][a-z0-9_-]{0,127})$")
SIZE = re.compile(r"^([0-9]{2,5})x([0-9]{2,5})$")


def _ref(text: str) -> tuple[str, str]:
    match = REF.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not MODULE/ENTITY (e.g. sources/pattern)")
    return match[1], match[2]


def _size(text: str) -> tuple[int, int]:
    match = SIZE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT (e.g. 640x360)")
    return int(match[1]), int(match[2])


def _bitrate(text: str) -> int:
    match = re.match(r"^([0-9]+(?:\.[0-9]+)?)([kM]?)$", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a bitrate (e.g. 800k, 2M, 64000)")
    return int(float(match[1]) * {"": 1, "k": 1000, "M": 1_000_000}[match[2]])


def register(subparsers: Any) -> None:
    pipeline = subparsers.add_parser(
        "pipeline", help="create, list and delete pipelines of a running orchestrator",
        description="Pipelines are planned by the orchestrator from the entities' "
                    "capabilities (contract P-12, P-13).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = pipeline.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help="plan, build and start a pipeline",
                                epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    create.add_argument("source", type=_ref, metavar="SOURCE", help="MODULE/ENTITY")
    create.add_argument("sink", type=_ref, metavar="SINK", help="MODULE/ENTITY")
    create.add_argument("--id", default="", help="pipeline id (default: pipe-<12 hex>)")
    create.add_argument("--name", default="", help="a name for people")
    create.add_argument("--media", choices=["video", "audio"],
                        help="media type (default: the source's)")
    create.add_argument("--codec", default="", help="codec at the sink (h264, hevc, aac...)")
    create.add_argument("--size", type=_size, metavar="WxH", help="picture size at the sink")
    create.add_argument("--bitrate", type=_bitrate, metavar="RATE", help="e.g. 800k")
    create.add_argument("--fps", type=int, metavar="N", help="frames per second at the sink")
    create.add_argument("--via", type=_ref, action="append", default=[], metavar="MODULE/ENTITY",
                        help="a converter to pass through (repeat for several, in order)")
    create.add_argument("--transport", choices=["mpegts-udp", "mpegts-tcp", "srt"], default="")
    create.add_argument("--no-start", action="store_true", help="connect, do not start")
    listing = actions.add_parser("list", help="flows with their state and live numbers")
    listing.add_argument("--all", action="store_true", help="stopped ones too")
    delete = actions.add_parser("delete", help="stop a pipeline and remove what it made")
    delete.add_argument("pipeline_id", metavar="ID")
    for parser in (create, listing, delete):
        parser.add_argument("--address", default=DEFAULT_ADDRESS, metavar="HOST:PORT",
                            help=f"the orchestrator (default {DEFAULT_ADDRESS})")
        add_tls_options(parser)  # MEDIAGRID_TOKEN is sent when set
        parser.add_argument("--json", action="store_true", help="print one JSON document")
    pipeline.set_defaults(func=_run, _parser=pipeline)


def _run(args: argparse.Namespace) -> int:
    if not getattr(args, "action", None):
        args._parser.print_help()
        return EXIT_INVALID
    from mediagrid.reference.orchestrator.planning.client import run_pipeline_command

    return asyncio.run(run_pipeline_command(args))


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2)
