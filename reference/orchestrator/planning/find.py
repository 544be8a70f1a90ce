"""FindModules: which modules offer an entity type matching a capability query, best first,
and for every module that offers none, why not, one reason per type in go2rtc's words
(asked => offered):

    sources/testsrc  codec       codecs not matched: video:vp8 => video:h264, hevc, mpeg2video
    recorder         ready_only  module is STARTING, not READY
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediagrid.codecs import media_of
from mediagrid.manifest.model import EntityTypeSpec
from mediagrid.reference.orchestrator.modules import (
    DEGRADED,
    HEALTHY,
    READY,
    ModuleView,
    state_name,
)
from mediagrid.reference.orchestrator.planning.capabilities import names
from mediagrid.v1 import common_pb2, orchestrator_pb2

op = orchestrator_pb2


@dataclass(frozen=True)
class Miss:
    field: str
    reason: str


def kind_of(spec: EntityTypeSpec) -> int:
    return int(common_pb2.EntityKind.Value(f"ENTITY_KIND_{spec.kind.upper()}"))


def media_name(media_type: int) -> str:
    return common_pb2.MediaType.Name(media_type).removeprefix("MEDIA_TYPE_").lower()


def kind_name(kind: int) -> str:
    return common_pb2.EntityKind.Name(kind).removeprefix("ENTITY_KIND_").lower()


def _codec_offer(spec: EntityTypeSpec, media: str) -> str:
    def of(codecs: Iterable[str]) -> str:
        listed = [c for c in codecs if not media or media_of(c) == media]
        return f"{media or 'any'}:{names(listed) if listed else 'any'}"
    if spec.output is None:
        return of(spec.codecs)
    return f"takes {of(spec.codecs)}, gives {of(spec.output.codecs or spec.codecs)}"


def miss(spec: EntityTypeSpec, query: op.FindModulesRequest) -> Miss | None:
    """The first query field the entity type does not match, or None when it matches."""
    if query.kind and kind_of(spec) != query.kind:
        return Miss("kind", f"kind not matched: {kind_name(query.kind)} => {spec.kind}")
    if query.entity_type and spec.type != query.entity_type:
        return Miss("entity_type", f"type not matched: {query.entity_type} => {spec.type}")
    output = spec.output
    media = list(dict.fromkeys([*spec.media_types, *(output.media_types if output else ())]))
    wanted_media = media_name(query.media_type) if query.media_type else ""
    if wanted_media and wanted_media not in media:
        return Miss("media_type", f"media not matched: {wanted_media} => {names(media)}")
    protocols = list(dict.fromkeys([*spec.protocols, *(output.protocols if output else ())]))
    if query.protocol and query.protocol not in protocols:
        return Miss("protocol", f"protocols not matched: {query.protocol} =>"
                                f" {names(protocols)}")
    if query.codec:
        codec_media = media_of(query.codec) or wanted_media or "?"
        codecs = [*spec.codecs, *(output.codecs if output else ())]
        listed = [c for c in codecs if media_of(c) == codec_media]
        if (listed and query.codec not in listed) or codec_media not in media:
            return Miss("codec", f"codecs not matched: {codec_media}:{query.codec} =>"
                                 f" {_codec_offer(spec, codec_media)}")
    for key, value in sorted(query.properties.items()):
        has = spec.properties.get(key)
        if has != value:
            offered = f"{key}={has}" if has is not None else f"{key} (absent)"
            return Miss("properties", f"properties not matched: {key}={value} => {offered}")
    return None


def _rank_key(view: ModuleView, spec: EntityTypeSpec,
              query: op.FindModulesRequest) -> tuple[int, int, int, str, str]:
    codecs = [*spec.codecs, *(spec.output.codecs if spec.output else ())]
    # A type listing the codec asked comes before one taking any (it lists none, P-3).
    place = codecs.index(query.codec) if query.codec in codecs else 1000
    health = {HEALTHY: 0, DEGRADED: 1}.get(view.health, 2)
    return (0 if view.state == READY else 1, health, place, view.id, spec.type)


def find_modules(views: Iterable[ModuleView],
                 query: op.FindModulesRequest) -> op.FindModulesResponse:
    response = op.FindModulesResponse()
    found: list[tuple[tuple[int, int, int, str, str], ModuleView, EntityTypeSpec]] = []
    for view in sorted(views, key=lambda v: v.id):
        specs = sorted(view.manifest.entity_types, key=lambda s: s.type)
        if query.ready_only and view.state != READY:
            why = f" ({view.error_message})" if view.error_message else ""
            response.misses.add(module_id=view.id, field="ready_only",
                                reason=f"module is {state_name(view.state)}, not READY{why}")
            continue
        misses = [(spec, miss(spec, query)) for spec in specs]
        hits = [spec for spec, m in misses if m is None]
        if not specs:
            response.misses.add(module_id=view.id, field="entity_type",
                                reason="the module offers no entity type")
        elif not hits:
            for spec, m in misses:
                assert m is not None
                response.misses.add(module_id=view.id, entity_type=spec.type, field=m.field,
                                    reason=m.reason)
        found.extend((_rank_key(view, spec, query), view, spec) for spec in hits)
    found.sort(key=lambda f: f[0])
    infos: dict[str, object] = {}
    for rank, (_, view, spec) in enumerate(found, start=1):
        info = infos.setdefault(view.id, view.to_proto())
        response.matches.add(module=info, entity_type=spec.to_proto(), rank=rank)
    return response


def explain_misses(response: op.FindModulesResponse) -> str:
    """One line per miss, for people (the CLI and error messages)."""
    return "; ".join(f"{m.module_id}{'/' + m.entity_type if m.entity_type else ''}: {m.reason}"
                     for m in response.misses)
