"""mediagrid: a gRPC contract for modular video systems.

Subpackages:
    mediagrid.v1           generated protobuf and gRPC stubs (do not edit; `tox -e proto`)
    mediagrid.manifest     module.yaml: schema, loader, validation
    mediagrid.sdk          the kit a Python module author builds on
    mediagrid.reference    orchestrator, ffmpeg media modules, config service
    mediagrid.simulator    faulty modules, fault proxy, fake RTSP camera, chaos runner
    mediagrid.conformance  the conformance suite
"""

__version__ = "0.1.0"
