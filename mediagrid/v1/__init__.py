"""Generated protobuf and gRPC stubs of the mediagrid.v1 contract. Do not edit: `tox -e proto`."""
