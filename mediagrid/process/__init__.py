"""Child processes the project starts: each in its own process group, dying with its parent.

Every place that spawns a child (ffmpeg under the media supervisor, the camera's producer,
`mediagrid module run`, the test helpers for the camera and GStreamer) passes
`start_new_session=True` and `preexec_fn=die_with_parent_preexec()`, so no child outlives the
process that started it, even when that process is SIGKILLed.
"""

from mediagrid.process.parent_death import SUPPORTED, die_with_parent
from mediagrid.process.parent_death import (
    preexec_for_current_process as die_with_parent_preexec,
)
from mediagrid.process.ports import free_port
from mediagrid.process.stopping import stop_group

__all__ = ["SUPPORTED", "die_with_parent", "die_with_parent_preexec", "free_port", "stop_group"]
