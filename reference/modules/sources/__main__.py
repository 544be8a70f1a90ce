"""`python -m mediagrid.reference.modules.sources`: serves the sources module."""

from mediagrid import sdk
from mediagrid.reference.modules.sources.module import build

if __name__ == "__main__":
    sdk.serve(build())
