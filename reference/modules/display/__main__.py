"""`python -m mediagrid.reference.modules.display`: serves the display module."""

from mediagrid import sdk
from mediagrid.reference.modules.display.module import build

if __name__ == "__main__":
    sdk.serve(build())
