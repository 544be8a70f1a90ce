"""Cursors: an envelope's place in the event log as an opaque string (rules E-11 to E-13).

Every envelope gets the next log position (1, 2, 3, ... with no holes, for the life of the
state file). Its cursor is that position as 16 lower-case hex digits followed by the log's
tag, 8 hex digits drawn at random when the state file's log was created:

    000000000000002a 9f3c01d2     (no space)  -> position 42 of log 9f3c01d2

So every cursor has the same length (24), and comparing two cursors of one log as bytes
compares their positions, which is delivery order. The tag makes a cursor of another state
file (another orchestrator, or a file that was deleted and re-created) fail to decode, so it
is answered OUT_OF_RANGE instead of being read as a position in the wrong log.

Position 0 is "before the first envelope"; its cursor is valid and means "from the start".
Clients must treat cursors as opaque: the format may change with the state file's schema.
"""

from __future__ import annotations

import re
import secrets

OLDEST = "0"
"""`since_cursor` for the oldest retained envelope."""
LIVE_END = ""
"""`since_cursor` for the live end: only envelopes accepted from now on."""
POSITION_DIGITS = 16
TAG_DIGITS = 8
LENGTH = POSITION_DIGITS + TAG_DIGITS
_FORM = re.compile(f"[0-9a-f]{{{POSITION_DIGITS}}}[0-9a-f]{{{TAG_DIGITS}}}")


class CursorError(ValueError):
    """A cursor that this log did not issue; the message says why."""


def new_tag() -> str:
    """A fresh log tag for a newly created log."""
    return secrets.token_hex(TAG_DIGITS // 2)


def encode(position: int, tag: str) -> str:
    if not 0 <= position < 16**POSITION_DIGITS:
        raise ValueError(f"log position {position} out of range")
    return f"{position:0{POSITION_DIGITS}x}{tag}"


def decode(cursor: str, tag: str) -> int:
    """The position a cursor of this log names; CursorError when it is not one of ours."""
    if not _FORM.fullmatch(cursor):
        raise CursorError(
            f"{cursor!r} is not a cursor of this event log: cursors are {LENGTH} characters,"
            " taken from an envelope's `cursor` or a message's `resume_cursor`"
        )
    if cursor[POSITION_DIGITS:] != tag:
        raise CursorError(
            f"cursor {cursor!r} was issued by another event log (another orchestrator or "
            "state file)"
        )
    return int(cursor[:POSITION_DIGITS], 16)
