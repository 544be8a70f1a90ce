"""What the two ends of one hop offer, and whether they meet (contract §4.1, §4.5, P-3, P-15,
P-16): the words the planner and FindModules explain themselves with.

A *side* is what one end of a hop offers: the output of a source or converter (what it
produces), or the input of a sink or converter (what it takes). Two sides meet when they carry
the same media type, share a transport (LOCAL inside one module; else a §4.1 transport both
list) and share a codec (MPEG-TS-carried only across modules; an empty list means any).
When they do not, the reason reads as go2rtc's do, asked => offered:

    codecs not matched: video:hevc => video:h264, mpeg2video
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediagrid.codecs import DEFAULT_TRANSPORT, MPEGTS_CODECS, crosses_modules, of_media
from mediagrid.manifest.model import EntityTypeSpec

LOCAL = "local"


@dataclass(frozen=True)
class Side:
    """One end's offer. `entity` is "" for a converter the planner may still create."""

    module_id: str
    type: str
    media: str  # "video" or "audio": the one media type carried
    protocols: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ()  # of `media` only; empty: any
    entity: str = ""

    @property
    def label(self) -> str:
        return f"{self.module_id}/{self.entity or self.type}"

    def codecs_text(self) -> str:
        return f"{self.media}:{', '.join(self.codecs) if self.codecs else 'any'}"

    def offer_text(self) -> str:
        transports = crosses_modules(self.protocols)
        over = ", ".join(transports) if transports else "LOCAL connections only"
        return f"{self.codecs_text()} over {over}"


def output_side(spec: EntityTypeSpec, module_id: str, media: str, entity: str = "") -> Side:
    """What an entity type produces: a converter's `output`, anyone else's own lists."""
    if spec.output is not None:
        return Side(module_id, spec.type, media, spec.output.protocols or spec.protocols,
                    of_media(spec.output.codecs or spec.codecs, media), entity)
    return input_side(spec, module_id, media, entity)


def input_side(spec: EntityTypeSpec, module_id: str, media: str, entity: str = "") -> Side:
    return Side(module_id, spec.type, media, spec.protocols, of_media(spec.codecs, media), entity)


@dataclass(frozen=True)
class Hop:
    """Two sides that meet: the transport ("local" or a §4.1 one) and the codec to ask for
    on the connection ("" when whatever the producer sends is taken)."""

    producer: Side
    consumer: Side
    transport: str
    codec: str

    @property
    def cross_module(self) -> bool:
        return self.transport != LOCAL

    def text(self) -> str:
        made = self.codec or "|".join(self.producer.codecs) or "any"
        codec = f"{self.producer.media}:{made}"
        return f"{self.producer.label} -> {self.consumer.label}: {codec} over {self.transport}"


def _carried(codecs: tuple[str, ...], media: str) -> tuple[str, ...]:
    """The codecs MPEG-TS carries among `codecs`; for "any", every carried one of `media`."""
    if not codecs:
        return tuple(c for c in of_media(sorted(MPEGTS_CODECS), media))
    return tuple(c for c in codecs if c in MPEGTS_CODECS)


def meet(producer: Side, consumer: Side, *, codec: str = "", transport: str = "") -> Hop | str:
    """The hop from `producer` to `consumer`, or why there is none (a reason, asked =>
    offered). `codec` pins the codec the hop must carry (the quality asked at a sink);
    `transport` is the preferred §4.1 transport of a cross-module hop."""
    if producer.media != consumer.media:
        return f"media not matched: {producer.media} => {consumer.media}"
    local = producer.module_id == consumer.module_id
    made, taken = producer.codecs, consumer.codecs
    if local:
        chosen_transport = LOCAL
    else:
        sent, heard = crosses_modules(producer.protocols), crosses_modules(consumer.protocols)
        if not sent:
            return (f"protocols not matched: {producer.label} ({producer.type}) lists no"
                    " transport across modules (LOCAL connections only)")
        if not heard:
            return (f"protocols not matched: {consumer.label} ({consumer.type}) lists no"
                    " transport across modules (LOCAL connections only)")
        common = [t for t in sent if t in heard]
        if not common:
            return f"protocols not matched: {', '.join(sent)} => {', '.join(heard)}"
        wanted = transport or DEFAULT_TRANSPORT
        chosen_transport = wanted if wanted in common else common[0]
        made, taken = _carried(made, producer.media), _carried(taken, consumer.media)
        if not made:
            return (f"codecs not matched: {producer.codecs_text()} => MPEG-TS, which carries"
                    " none of them across modules")
    if codec:
        if made and codec not in made:
            return f"codecs not matched: {producer.media}:{codec} => {producer.codecs_text()}" \
                   f" (what {producer.label} produces)"
        if taken and codec not in taken:
            return f"codecs not matched: {producer.media}:{codec} => {consumer.codecs_text()}" \
                   f" (what {consumer.label} takes)"
        return Hop(producer, consumer, chosen_transport, codec)
    if not made or not taken:  # one side takes or makes any codec (LOCAL)
        return Hop(producer, consumer, chosen_transport, "")
    common_codecs = [c for c in made if c in taken]
    if not common_codecs:
        return (f"codecs not matched: {producer.media}:{', '.join(made)} =>"
                f" {consumer.media}:{', '.join(taken)}")
    # Pin a codec only when the producer might send one the consumer cannot take.
    pinned = "" if set(made) <= set(taken) else common_codecs[0]
    return Hop(producer, consumer, chosen_transport, pinned)


def names(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"
