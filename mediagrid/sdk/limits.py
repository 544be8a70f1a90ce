"""The contract's limits on ids, names and config maps (rule N-10); violations are
INVALID_ARGUMENT naming the field and the fix."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mediagrid.sdk.errors import InvalidArgument

MAX_NAME = 256
MAX_ID = 128
MAX_CONFIG_KEYS = 64
MAX_CONFIG_KEY = 128
MAX_CONFIG_VALUE = 4096
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")


def check_id(field: str, value: str, *, required: bool = True) -> str:
    """Checks an entity, connection or flow id; returns it."""
    if not value:
        if required:
            raise InvalidArgument(f"{field} is required: pass an id like 'cam-1'")
        return value
    if len(value) > MAX_ID:
        raise InvalidArgument(
            f"{field} is {len(value)} characters long: use at most {MAX_ID}"
        )
    if not ID_PATTERN.fullmatch(value):
        raise InvalidArgument(
            f"{field} {value!r} is not a valid id: use lowercase letters, digits, '-' and '_',"
            " starting with a letter or digit"
        )
    return value


def check_name(field: str, value: str) -> str:
    if len(value) > MAX_NAME:
        raise InvalidArgument(f"{field} is {len(value)} characters long: use at most {MAX_NAME}")
    return value


def check_request_id(value: str) -> str:
    if len(value) > MAX_ID:
        raise InvalidArgument(
            f"request_id is {len(value)} characters long: use at most {MAX_ID} (a UUID is fine)"
        )
    return value


def check_config_map(field: str, config: Mapping[str, str]) -> dict[str, str]:
    """Checks a config map's size limits; returns a plain dict copy."""
    if len(config) > MAX_CONFIG_KEYS:
        raise InvalidArgument(
            f"{field} has {len(config)} keys: send at most {MAX_CONFIG_KEYS}"
        )
    for key, value in config.items():
        if not key:
            raise InvalidArgument(f"{field} has an empty key: remove it")
        if len(key) > MAX_CONFIG_KEY:
            raise InvalidArgument(
                f"{field} key {key[:40]!r}... is {len(key)} characters long:"
                f" use at most {MAX_CONFIG_KEY}"
            )
        if len(value) > MAX_CONFIG_VALUE:
            raise InvalidArgument(
                f"{field}[{key!r}] is {len(value)} characters long:"
                f" use at most {MAX_CONFIG_VALUE}"
            )
    return dict(config)


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(
            f"page.page_size is {requested}: use 0 for the default ({DEFAULT_PAGE_SIZE})"
            f" or 1..{MAX_PAGE_SIZE}"
        )
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)
