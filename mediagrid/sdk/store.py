"""A registry of live objects by id with creation order, tombstones and opaque page tokens.

Tombstones make destroy-like calls idempotent: an id that existed answers OK (with
`destroyed=false`) forever after, and only ids never seen by this instance are NOT_FOUND.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from mediagrid.sdk.errors import InvalidArgument, NotFound

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, noun: str, instance_id: str) -> None:
        self.noun = noun
        self._instance = instance_id[:8]
        self._live: dict[str, tuple[int, T]] = {}
        self._tombstones: set[str] = set()
        self._ordinals = itertools.count(1)

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, id: str) -> bool:
        return id in self._live

    def add(self, id: str, item: T) -> int:
        """Makes `item` visible under `id`; returns its creation ordinal."""
        ordinal = next(self._ordinals)
        self._live[id] = (ordinal, item)
        self._tombstones.discard(id)
        return ordinal

    def get(self, id: str) -> T | None:
        entry = self._live.get(id)
        return entry[1] if entry else None

    def require(self, id: str, field: str) -> T:
        """The live item, or NOT_FOUND (also for a destroyed one: it is gone)."""
        item = self.get(id)
        if item is None:
            state = "was removed" if id in self._tombstones else "does not exist"
            raise NotFound(f"{field}: {self.noun} {id!r} {state} in this module instance")
        return item

    def existed(self, id: str) -> bool:
        return id in self._tombstones

    def removable(self, id: str, field: str) -> T | None:
        """For an idempotent remove: the live item, None when it was removed already, and
        NOT_FOUND for an id this instance never had (rules N-6, P-7)."""
        if id in self._tombstones and id not in self._live:
            return None
        return self.require(id, field)

    def remove(self, id: str) -> T | None:
        entry = self._live.pop(id, None)
        if entry is None:
            return None
        self._tombstones.add(id)
        return entry[1]

    def values(self) -> Iterator[T]:
        return (item for _, item in list(self._live.values()))

    def page(
        self, size: int, token: str, keep: Callable[[T], bool] = lambda _: True,
        filter_key: str = "",
    ) -> tuple[list[T], str]:
        """Items in creation order after `token`; returns them and the next token ("" = end).
        The token remembers `filter_key`: used with another filter it is INVALID_ARGUMENT."""
        after = self._decode(token, filter_key)
        ordered = [(o, i) for o, i in self._live.values() if o > after and keep(i)]
        ordered.sort(key=lambda pair: pair[0])
        chosen = ordered[:size]
        next_token = self._encode(chosen[-1][0], filter_key) if len(ordered) > size else ""
        return [item for _, item in chosen], next_token

    def _encode(self, ordinal: int, filter_key: str) -> str:
        raw = json.dumps({"a": ordinal, "i": self._instance, "f": filter_key},
                         separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, token: str, filter_key: str) -> int:
        if not token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if data["i"] != self._instance:
                raise ValueError("from another instance")
            ordinal, issued_for = int(data["a"]), str(data["f"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidArgument(
                "page.page_token is not a token this module instance issued: pass the"
                " next_page_token of the previous response unchanged, or empty for the first page"
            ) from exc
        if issued_for != filter_key:
            raise InvalidArgument(
                f"page.page_token was issued for the filter {issued_for!r}, not {filter_key!r}:"
                " page with the filter you started with, or start again without a token"
            )
        return ordinal
