"""The planner and FindModules as units: a direct path when one exists, the cheapest
converter chain when not, and no path explained with both sides' codecs (P-13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediagrid.manifest.model import Capabilities, EntityTypeSpec, ModuleManifest
from mediagrid.reference.orchestrator.modules import DEGRADED, READY, STARTING, ModuleView
from mediagrid.reference.orchestrator.planning.capabilities import Hop, Side, meet
from mediagrid.reference.orchestrator.planning.find import find_modules
from mediagrid.reference.orchestrator.planning.planner import (
    ConverterOffer,
    NoPath,
    plan,
    through,
)
from mediagrid.v1 import common_pb2, orchestrator_pb2

UDP = ("mpegts-udp",)


def side(module: str, codecs: tuple[str, ...], protocols: tuple[str, ...] = UDP,
         media: str = "video", name: str = "x") -> Side:
    return Side(module, name, media, protocols, codecs)


def converter(module: str, name: str, takes: tuple[str, ...], gives: tuple[str, ...],
              ready: bool = True) -> ConverterOffer:
    return ConverterOffer(module, name, side(module, takes, name=name),
                          side(module, gives, name=name), ready, "READY" if ready else "STARTING")


CONVERTERS = [
    converter("conv", "to-h264", ("hevc", "h264", "mpeg2video"), ("h264",)),
    converter("conv", "to-mpeg2", ("h264",), ("mpeg2video",)),
    converter("zconv", "to-h264", ("hevc",), ("h264",)),
]


def test_p13_a_direct_hop_needs_no_converter() -> None:
    chosen = plan(side("cams", ("h264", "hevc")), side("screens", ("h264",)), CONVERTERS)
    assert chosen.converters == () and len(chosen.hops) == 1
    hop = chosen.hops[0]
    assert hop.transport == "mpegts-udp" and hop.codec == "h264"  # pinned: hevc is not taken


def test_p13_a_converter_only_when_the_codecs_do_not_meet_and_the_cheapest_one() -> None:
    chosen = plan(side("cams", ("hevc",)), side("screens", ("h264",)), CONVERTERS)
    assert [c.label for c in chosen.converters] == ["conv/to-h264"]  # not zconv: id order
    # Nothing pinned: the source sends only hevc, the converter gives only h264.
    assert [(h.codec, h.transport) for h in chosen.hops] == [("", "mpegts-udp")] * 2
    # Two converters when one is not enough: hevc -> h264 -> mpeg2video.
    chain = plan(side("cams", ("hevc",)), side("screens", ("mpeg2video",)), CONVERTERS[1:])
    assert [c.label for c in chain.converters] == ["zconv/to-h264", "conv/to-mpeg2"]


def test_p13_a_converter_in_the_sources_own_module_is_cheaper_than_one_across() -> None:
    local = converter("cams", "to-h264", ("hevc",), ("h264",))
    chosen = plan(side("cams", ("hevc",)), side("screens", ("h264",)), [*CONVERTERS, local])
    assert [c.label for c in chosen.converters] == ["cams/to-h264"]
    assert chosen.hops[0].transport == "local" and chosen.hops[1].transport == "mpegts-udp"


def test_p13_a_converter_that_is_not_ready_is_not_used() -> None:
    offers = [converter("conv", "to-h264", ("hevc",), ("h264",), ready=False)]
    with pytest.raises(NoPath) as caught:
        plan(side("cams", ("hevc",)), side("screens", ("h264",)), offers)
    assert "converter conv/to-h264 is STARTING, not READY" in str(caught.value)


def test_p13_no_path_names_the_missing_capability_and_both_sides_codecs() -> None:
    with pytest.raises(NoPath) as caught:
        plan(side("cams", ("hevc",), name="cam"), side("screens", ("mpeg4",), name="legacy"),
             CONVERTERS)
    text = str(caught.value)
    assert "codecs not matched: video:hevc => video:mpeg4" in text
    assert "missing capability: a video converter taking video:hevc and giving video:mpeg4" in text
    assert "offers video:hevc over mpegts-udp" in text
    assert "takes video:mpeg4 over mpegts-udp" in text
    assert "converter conv/to-h264 takes video:hevc, h264, mpeg2video, gives video:h264" in text


def test_p16_sides_without_a_common_transport_or_media_do_not_meet() -> None:
    assert meet(side("a", ("h264",), ("mpegts-tcp",)), side("b", ("h264",))) == \
        "protocols not matched: mpegts-tcp => mpegts-udp"
    assert "LOCAL connections only" in str(meet(side("a", ("h264",), ()), side("b", ("h264",))))
    # In one module, no transport is needed (LOCAL), and codecs MPEG-TS cannot carry pass.
    hop = meet(side("a", ("vp8",), ()), side("a", ("vp8",), ()))
    assert isinstance(hop, Hop) and hop.transport == "local"
    assert meet(side("a", ("vp8",)), side("b", ())).startswith("codecs not matched")
    assert meet(side("a", ("aac",), media="audio"), side("b", ("h264",))) == \
        "media not matched: audio => video"


def test_p15_codecs_mpegts_does_not_carry_never_cross_modules_even_when_both_list_them() -> None:
    # Both sides list vp8 (or PCM), but a §4.1 transport is MPEG-TS, which carries neither.
    assert "MPEG-TS, which carries none of them" in str(
        meet(side("a", ("vp8",)), side("b", ("vp8",))))
    assert "MPEG-TS, which carries none of them" in str(
        meet(side("a", ("pcm_s16le",), media="audio"), side("b", ("pcm_s16le",), media="audio")))
    # Of a mixed list only the carried codec crosses, so a screen taking vp8 or h264 is fed
    # through the camera module's own converter rather than sent vp8 over mpegts-udp.
    local = converter("cams", "to-h264", ("vp8",), ("h264",))
    chosen = plan(side("cams", ("vp8",)), side("screens", ("vp8", "h264")), [local])
    assert [c.label for c in chosen.converters] == ["cams/to-h264"]
    assert [h.transport for h in chosen.hops] == ["local", "mpegts-udp"]


def test_p3_a_codec_asked_at_the_sink_is_carried_by_the_last_hop() -> None:
    chosen = plan(side("cams", ("h264", "hevc")), side("screens", ()), CONVERTERS, codec="hevc")
    assert chosen.converters == () and chosen.hops[0].codec == "hevc"
    with pytest.raises(NoPath):
        plan(side("cams", ("h264",)), side("screens", ()), [], codec="hevc")


def test_a_route_through_given_converters_checks_every_hop() -> None:
    conv = (side("conv", ("h264",)), side("conv", ("mpeg2video",)))
    hops = through(side("cams", ("h264",)), side("screens", ("mpeg2video",)), [conv])
    assert [h.consumer.module_id for h in hops] == ["conv", "screens"]
    with pytest.raises(NoPath) as caught:
        through(side("cams", ("hevc",)), side("screens", ("mpeg2video",)), [conv])
    assert "hop 1" in str(caught.value) and "video:hevc => video:h264" in str(caught.value)


def view(module_id: str, *types: EntityTypeSpec, state: int = READY) -> ModuleView:
    manifest = ModuleManifest(Path(f"/m/{module_id}/module.yaml"), module_id, ("x",),
                              entity_types=types)
    return ModuleView(manifest, state=state)


def test_find_modules_ranks_matches_and_explains_every_miss() -> None:
    cam = EntityTypeSpec("cam", "source", ("video",), protocols=UDP, codecs=("hevc", "h264"))
    pattern = EntityTypeSpec("pattern", "source", ("video",), protocols=UDP, codecs=("h264",))
    screen = EntityTypeSpec("screen", "sink", ("video",), protocols=UDP, codecs=("h264",))
    tone = EntityTypeSpec("tone", "source", ("audio",), protocols=UDP, codecs=("opus",),
                          properties={"live": "true"})
    views = [view("b-cams", cam), view("a-gen", pattern), view("screens", screen),
             view("late", pattern, state=STARTING), view("audio", tone)]
    query = orchestrator_pb2.FindModulesRequest(kind=common_pb2.ENTITY_KIND_SOURCE,
                                                codec="h264")
    found = find_modules(views, query)
    # a-gen lists h264 first; b-cams second; late is not READY so last.
    assert [(m.module.id, m.rank) for m in found.matches] == [("a-gen", 1), ("b-cams", 2),
                                                               ("late", 3)]
    reasons = {(m.module_id, m.entity_type): (m.field, m.reason) for m in found.misses}
    assert reasons[("screens", "screen")] == ("kind", "kind not matched: source => sink")
    assert reasons[("audio", "tone")] == ("codec", "codecs not matched: video:h264 => video:any")
    vp8 = find_modules(views, orchestrator_pb2.FindModulesRequest(codec="vp8", ready_only=True))
    assert not vp8.matches
    reasons = {m.module_id: m.reason for m in vp8.misses}
    assert reasons["b-cams"] == "codecs not matched: video:vp8 => video:hevc, h264"
    assert reasons["late"] == "module is STARTING, not READY"
    props = find_modules(views, orchestrator_pb2.FindModulesRequest(properties={"live": "no"}))
    assert not props.matches
    assert {m.reason for m in props.misses if m.module_id == "audio"} == {
        "properties not matched: live=no => live=true"}


def test_a_converter_is_found_by_what_it_gives() -> None:
    transcode = EntityTypeSpec("transcode", "converter", ("video",), protocols=UDP,
                               codecs=("h264",), output=Capabilities(("video",), UDP, ("hevc",)))
    found = find_modules([view("t", transcode)], orchestrator_pb2.FindModulesRequest(codec="hevc"))
    assert [m.entity_type.type for m in found.matches] == ["transcode"]


# -- added by the mutation audit of issue 11 (docs: /work/coord/audit-11.md) ----------------


def test_p13_at_most_three_converters_in_a_chain() -> None:
    # hevc -> h264 -> mpeg1video -> mpeg2video -> mpeg4: four converters, one too many.
    steps = [("hevc", "h264"), ("h264", "mpeg1video"), ("mpeg1video", "mpeg2video"),
             ("mpeg2video", "mpeg4")]
    offers = [converter("conv", f"{a}-{b}", (a,), (b,)) for a, b in steps]
    with pytest.raises(NoPath, match="missing capability: a video converter taking"
                                     " video:hevc and giving video:mpeg4"):
        plan(side("cams", ("hevc",)), side("screens", ("mpeg4",)), offers)
    three = plan(side("cams", ("h264",)), side("screens", ("mpeg4",)), offers)
    assert [c.type for c in three.converters] == ["h264-mpeg1video", "mpeg1video-mpeg2video",
                                                  "mpeg2video-mpeg4"]


def test_p13_the_local_converter_wins_even_when_its_module_sorts_last() -> None:
    # The tie-break by id would pick aconv: only the cost of the hop between processes
    # makes the converter in the source's own module the cheaper chain.
    local = converter("zcams", "to-h264", ("hevc",), ("h264",))
    across = converter("aconv", "to-h264", ("hevc",), ("h264",))
    chosen = plan(side("zcams", ("hevc",)), side("screens", ("h264",)), [across, local])
    assert [c.label for c in chosen.converters] == ["zcams/to-h264"]
    assert chosen.cost < plan(side("zcams", ("hevc",)), side("screens", ("h264",)),
                              [across]).cost


def test_p16_the_transport_asked_is_used_when_both_sides_list_it() -> None:
    both = ("mpegts-udp", "mpegts-tcp")
    hop = meet(side("a", ("h264",), both), side("b", ("h264",), both), transport="mpegts-tcp")
    assert isinstance(hop, Hop) and hop.transport == "mpegts-tcp"
    # Not asked: mpegts-udp, even when it is listed second; asked but not shared: the first
    # shared one.
    hop = meet(side("a", ("h264",), ("srt", "mpegts-udp")), side("b", ("h264",), both))
    assert isinstance(hop, Hop) and hop.transport == "mpegts-udp"
    hop = meet(side("a", ("h264",), both), side("b", ("h264",), both), transport="srt")
    assert isinstance(hop, Hop) and hop.transport == "mpegts-udp"
    chosen = plan(side("a", ("h264",), both), side("b", ("h264",), both), [],
                  transport="mpegts-tcp")
    assert chosen.hops[0].transport == "mpegts-tcp"


def test_find_modules_ranks_by_health_and_the_codecs_place_and_explains_every_type() -> None:
    late_h264 = EntityTypeSpec("cam", "source", ("video",), protocols=UDP,
                               codecs=("hevc", "mpeg2video", "h264"))
    early_h264 = EntityTypeSpec("cam", "source", ("video",), protocols=UDP, codecs=("h264",))
    degraded = view("a-cams", early_h264)
    degraded.health = DEGRADED
    views = [degraded, view("b-cams", late_h264), view("c-cams", early_h264)]
    found = find_modules(views, orchestrator_pb2.FindModulesRequest(codec="h264"))
    # HEALTHY before DEGRADED; then h264 listed first before h264 listed third.
    assert [m.module.id for m in found.matches] == ["c-cams", "b-cams", "a-cams"]
    # A module with no matching type: one miss per type, each with its own reason.
    two = view("mixed", EntityTypeSpec("mic", "source", ("audio",), protocols=UDP,
                                       codecs=("opus",)),
               EntityTypeSpec("screen", "sink", ("video",), protocols=UDP, codecs=("h264",)))
    none = find_modules([two], orchestrator_pb2.FindModulesRequest(
        kind=common_pb2.ENTITY_KIND_SOURCE, media_type=common_pb2.MEDIA_TYPE_VIDEO))
    assert [(m.entity_type, m.field) for m in none.misses] == [("mic", "media_type"),
                                                               ("screen", "kind")]
