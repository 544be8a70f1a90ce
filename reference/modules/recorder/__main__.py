"""`python -m mediagrid.reference.modules.recorder`: serves the recorder module."""

from mediagrid import sdk
from mediagrid.reference.modules.recorder.module import build

if __name__ == "__main__":
    sdk.serve(build())
