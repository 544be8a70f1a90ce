"""Declaring entity types: what a module offers, its capabilities and its config schema.

    EntityType(
        "testsrc", kind="source", media_types=["video"],
        protocols=["mpegts-udp"], codecs=["mpeg2video"],
        config={"type": "object", "properties": {"rate": {"type": "string"}}},
    )

Config maps are strings (the wire carries map<string, string>), so a schema describes them as
strings, with "pattern" or "enum" where useful (rule C-12: a schema that cannot match strings is
refused). Keys whose name contains password, secret or token in any case, and keys a schema
marks `"writeOnly": true`, are secrets: they are redacted to "***" whenever the config is read
back, and "***" written back keeps the secret in force (rules N-11, N-20).

Codecs come from the contract's table (mediagrid.codecs): each belongs to one media type, and a
type that speaks a transport between modules offers only codecs MPEG-TS carries (rule C-14).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from mediagrid import codecs as codec_table
from mediagrid.manifest.config_schema import string_map_problems
from mediagrid.sdk.errors import InvalidArgument
from mediagrid.v1 import common_pb2, module_pb2


class NamedIntEnum(enum.IntEnum):
    """An IntEnum that prints its name, not its number, in logs and messages
    (`f"{Health.DEGRADED}"` is "DEGRADED"); `int(x)` still gives the wire value."""

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)


class MediaType(NamedIntEnum):
    AUDIO = common_pb2.MEDIA_TYPE_AUDIO
    VIDEO = common_pb2.MEDIA_TYPE_VIDEO


class EntityKind(NamedIntEnum):
    SOURCE = common_pb2.ENTITY_KIND_SOURCE
    SINK = common_pb2.ENTITY_KIND_SINK
    CONVERTER = common_pb2.ENTITY_KIND_CONVERTER
    PROTOCOL = common_pb2.ENTITY_KIND_PROTOCOL


class Health(NamedIntEnum):
    HEALTHY = common_pb2.HEALTH_STATUS_HEALTHY
    DEGRADED = common_pb2.HEALTH_STATUS_DEGRADED
    UNHEALTHY = common_pb2.HEALTH_STATUS_UNHEALTHY


def _coerce(enum_cls: type[enum.IntEnum], value: Any, field_name: str) -> Any:
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str) and value.upper() in enum_cls.__members__:
        return enum_cls[value.upper()]
    if isinstance(value, int):
        try:
            return enum_cls(value)
        except ValueError:
            pass
    choices = ", ".join(m.lower() for m in enum_cls.__members__)
    raise ValueError(f"{field_name}: {value!r} is not one of {choices}")


SECRET = "***"
SECRET_WORDS = ("password", "secret", "token")


def is_secret(key: str, schema: Mapping[str, Any] | None) -> bool:
    """A key whose name contains password, secret or token (any case), or whose property the
    schema marks `"writeOnly": true` (rule N-11)."""
    prop = (schema or {}).get("properties", {}).get(key)
    return (isinstance(prop, dict) and bool(prop.get("writeOnly"))) or any(
        w in key.lower() for w in SECRET_WORDS
    )


def redact(config: Mapping[str, str], schema: Mapping[str, Any] | None) -> dict[str, str]:
    """The config as read back (rule N-11): secret values are "***"."""
    return {k: SECRET if is_secret(k, schema) else v for k, v in config.items()}


def keep_secrets(
    changes: Mapping[str, str], in_force: Mapping[str, str], schema: Mapping[str, Any] | None,
    field_name: str = "config",
) -> dict[str, str]:
    """`changes` with "***" for a secret key replaced by the value in force (rule N-20), so a
    config read back can be written back; "***" for a secret with no value in force is
    INVALID_ARGUMENT."""
    result = dict(changes)
    for key, value in changes.items():
        if value == SECRET and is_secret(key, schema):
            if key not in in_force:
                raise InvalidArgument(
                    f"{field_name}.{key} is \"***\", the redaction of a secret, but {key!r} has"
                    " no value in force to keep: send the real value"
                )
            result[key] = in_force[key]
    return result


@dataclass
class EntityType:
    """One entity type a module offers. Its class (an `Entity` subclass) does the work."""

    type: str
    kind: EntityKind | str
    media_types: Sequence[MediaType | str]
    description: str = ""
    protocols: Sequence[str] = ()
    codecs: Sequence[str] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] | None = None
    """JSON Schema of the config map (draft 2020-12); None accepts any keys."""
    validator: Callable[[dict[str, str]], None] | None = None
    """Extra check run after the schema; raise InvalidArgument naming the key and the fix."""
    output_protocols: Sequence[str] = ()
    output_codecs: Sequence[str] = ()
    """Converters only: what the converter can produce."""

    def __post_init__(self) -> None:
        self.kind = _coerce(EntityKind, self.kind, f"entity type {self.type!r} kind")
        self.media_types = tuple(
            _coerce(MediaType, m, f"entity type {self.type!r} media_types")
            for m in self.media_types
        )
        if not self.media_types:
            raise ValueError(f"entity type {self.type!r}: media_types must name audio or video")
        self.protocols = tuple(self.protocols)
        self.codecs = tuple(self.codecs)
        self.output_protocols = tuple(self.output_protocols)
        self.output_codecs = tuple(self.output_codecs)
        self._check_codecs(self.codecs, self.protocols, "codecs")
        self._check_codecs(self.output_codecs, self.output_protocols or self.protocols,
                           "output_codecs")
        self._schema_validator = None
        if self.config is not None:
            jsonschema.Draft202012Validator.check_schema(self.config)
            for where, message, fix in string_map_problems(self.config):
                path = ".".join(str(p) for p in where)
                raise ValueError(f"entity type {self.type!r} config.{path}: {message}; {fix}")
            self._schema_validator = jsonschema.Draft202012Validator(self.config)

    def _check_codecs(self, names: Sequence[str], protocols: Sequence[str], label: str) -> None:
        """Rule C-14, as `mediagrid validate` checks module.yaml."""
        media = {m.name.lower() for m in self.media_types}  # type: ignore[union-attr]
        transports = codec_table.crosses_modules(protocols)
        for codec in names:
            kind = codec_table.media_of(codec)
            if kind is None:
                raise ValueError(f"entity type {self.type!r} {label}: {codec!r} is not a codec"
                                 " name of the contract (docs/contract.md §4.5)")
            if kind not in media:
                raise ValueError(f"entity type {self.type!r} {label}: {codec!r} is {kind}, but"
                                 f" the type carries {', '.join(sorted(media))}")
            if transports and codec not in codec_table.MPEGTS_CODECS:
                raise ValueError(f"entity type {self.type!r} {label}: {codec!r} cannot travel"
                                 f" over {', '.join(transports)} (MPEG-TS has no stream type"
                                 " for it): offer it on a type without those transports")

    # -- capabilities -----------------------------------------------------------------------
    def takes(self, media_type: MediaType) -> tuple[str, ...]:
        """Codecs this type accepts (or a source produces) for one media type; () = any."""
        return codec_table.of_media(self.codecs, media_type.name.lower())

    def produces(self, media_type: MediaType) -> tuple[str, ...]:
        """Codecs entities of this type send: a converter's output, else its codecs."""
        names = (self.output_codecs or self.codecs) if self.kind is EntityKind.CONVERTER \
            else self.codecs
        return codec_table.of_media(names, media_type.name.lower())

    @property
    def transports(self) -> tuple[str, ...]:
        """The §4.1 transports this type speaks between modules; () = LOCAL only (P-16)."""
        return codec_table.crosses_modules(self.protocols)

    # -- config ---------------------------------------------------------------------------
    def redact(self, config: Mapping[str, str]) -> dict[str, str]:
        return redact(config, self.config)

    def with_defaults(self, config: Mapping[str, str]) -> dict[str, str]:
        """The config with the schema's string defaults filled in for missing keys."""
        result = dict(config)
        for key, prop in (self.config or {}).get("properties", {}).items():
            default = prop.get("default") if isinstance(prop, dict) else None
            if key not in result and isinstance(default, str):
                result[key] = default
        return result

    def validate_config(self, config: dict[str, str], field_name: str = "config") -> None:
        """Raises InvalidArgument naming the first bad key and the fix."""
        if self._schema_validator is not None:
            errors = sorted(self._schema_validator.iter_errors(config), key=_error_order)
            if errors:
                raise InvalidArgument(describe_schema_error(errors[0], field_name, self.type))
        if self.validator is not None:
            self.validator(config)

    # -- proto ----------------------------------------------------------------------------
    def capabilities(self, media_type: MediaType) -> common_pb2.EntityCapabilities:
        """One media type's capabilities, with that media type's codecs only (§6.1, N-15)."""
        return common_pb2.EntityCapabilities(
            supported_protocols=self.protocols, supported_codecs=self.takes(media_type),
            media_type=int(media_type), properties=dict(self.properties),
        )

    def output_capabilities(self, media_type: MediaType) -> common_pb2.EntityCapabilities:
        return common_pb2.EntityCapabilities(
            supported_protocols=self.output_protocols or self.protocols,
            supported_codecs=self.produces(media_type),
            media_type=int(media_type), properties=dict(self.properties),
        )

    def info(self) -> module_pb2.EntityTypeInfo:
        outputs: Iterable[common_pb2.EntityCapabilities] = ()
        if self.kind is EntityKind.CONVERTER:
            outputs = [self.output_capabilities(m) for m in self.media_types]
        return module_pb2.EntityTypeInfo(
            type=self.type, kind=int(self.kind), description=self.description,
            capabilities=[self.capabilities(m) for m in self.media_types],
            output_capabilities=outputs,
        )


def _error_order(error: jsonschema.ValidationError) -> tuple[int, str]:
    return (len(error.path), str(list(error.path)))


def describe_schema_error(
    error: jsonschema.ValidationError, field_name: str, type_name: str = ""
) -> str:
    """Turns a jsonschema error into 'config.KEY: what is wrong: how to fix it'."""
    where = f" for entity type {type_name!r}" if type_name else ""
    key = str(error.path[0]) if error.path else ""
    label = f"{field_name}.{key}" if key else field_name
    validator, expected = error.validator, error.validator_value
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(expected)
        return f"{field_name}.{missing} is required{where}: add the key {missing!r}"
    if validator == "additionalProperties":
        known = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(error.instance) - set(known))
        return (
            f"{field_name}.{extra[0] if extra else '?'} is not a known key{where}:"
            f" remove it or use one of {', '.join(known) or '(none)'}"
        )
    if validator == "enum":
        choices = ", ".join(repr(c) for c in expected)
        return f"{label} is {error.instance!r}{where}: use one of {choices}"
    if validator == "pattern":
        return f"{label} is {error.instance!r}{where}: use a value matching {expected}"
    if validator == "maxProperties":
        return f"{field_name} has too many keys{where}: send at most {expected}"
    hint = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    fix = f": {hint}" if hint else ""
    return f"{label}: {error.message}{where}{fix}"
