"""`python -m mediagrid.reference.modules.transcoder`: serves the transcoder module."""

from mediagrid import sdk
from mediagrid.reference.modules.transcoder.module import build

if __name__ == "__main__":
    sdk.serve(build())
