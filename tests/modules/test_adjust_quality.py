"""AdjustQuality on a live flow (rule P-9): the transcoder starts an encoder at the new quality,
switches the connection at its first keyframe and stops the old one. The recording shows the
new bitrate, and its time codes show no gap beyond one GOP (docs/media.md)."""

from __future__ import annotations

import time

from mediagrid.reference.media.timecode import delta_ms, now_code
from mediagrid.reference.modules.wiring import Flow
from mediagrid.v1 import common_pb2
from tests import support
from tests.modules import checks

FPS, GOP = 25, 25
LOW, HIGH = 100_000, 700_000


def test_adjust_quality_switches_encoders_without_a_gap(start_module, tmp_path):
    sources, transcoder = start_module("sources"), start_module("transcoder")
    recorder = start_module("recorder").client
    source = sources.client.create("testsrc", {"size": "320x240", "rate": str(FPS),
                                               "bitrate": "600k", "gop": str(GOP)})
    converter = transcoder.client.create("transcode", {"bitrate": str(LOW), "gop": str(GOP)})
    path = tmp_path / "adjusted.mp4"
    flow = Flow("f1")
    flow.connect("c1", source, converter)
    flow.connect("c2", converter, recorder.create("file", {"path": str(path)}))
    flow.start()
    checks.wait_frames(recorder, "f1", 3 * FPS)
    # Each end measures the MPEG-TS bytes at its own end (P-24): what the transcoder sends on
    # c2 is what the recorder receives there, the new encoding's rate, not the input's on c1.
    rates = {c.id: c.metrics.bitrate_bps for c in transcoder.client.flow("f1").connections}
    received = recorder.flow("f1").connections[0].metrics.bitrate_bps
    assert 0.6 * received <= rates["c2"] <= 1.6 * received < rates["c1"] / 2, (rates, received)
    encoder = transcoder.children()
    assert len(encoder) == 1
    switched_at = now_code(time.time_ns() // 1_000_000)
    answer = flow.adjust("c2", common_pb2.QualityProfile(bitrate=HIGH))
    assert answer.quality.bitrate == HIGH  # the quality in force
    # The new encoder runs beside the old one until the switch (not stop, then start).
    assert support.wait_until(lambda: len(transcoder.children()) == 2, 5)
    # The old encoder is stopped once the connection has switched: one ffmpeg again, another.
    assert support.wait_until(lambda: len(transcoder.children()) == 1
                              and transcoder.children() != encoder, 20)
    switched_by = now_code(time.time_ns() // 1_000_000)  # the switch is behind us
    frames = recorder.flow("f1").metrics.frames
    checks.wait_frames(recorder, "f1", frames + 4 * FPS)
    assert recorder.flow("f1").metrics.restarts == 0  # the recorder never noticed
    flow.stop()

    codes = checks.timecodes(path, 320, 240)
    sizes = [size for _, size in checks.packets(path)]
    assert len(codes) == len(sizes) and None not in codes
    # The gap is measured at the switch (contract §4.4), which happened between the call and
    # the old encoder's end: a stall of the stamping clock elsewhere under load is not a gap.
    around = [c for c in codes
              if delta_ms(c, switched_at) > -500 and delta_ms(c, switched_by) < 500]
    assert len(around) >= FPS
    gap = checks.largest_gap_frames(around, FPS)
    # Rule P-9; the bound is one GOP (25 frames), a switch that waits for the next
    # keyframe loses about that many. 0 on a quiet machine; up to 3 allows the source's
    # stamping clock a stall on a loaded one (seen once with four test workers on 2 cores).
    assert gap <= 3, f"{gap} frames lost at the switch"
    before = [s for c, s in zip(codes, sizes, strict=True) if delta_ms(c, switched_at) < 0]
    after = [s for c, s in zip(codes, sizes, strict=True) if delta_ms(c, switched_at) > 2000]
    assert len(before) >= 2 * FPS and len(after) >= FPS
    rate_before = sum(before) * 8 * FPS / len(before)
    rate_after = sum(after) * 8 * FPS / len(after)
    assert rate_after > 2.5 * rate_before, (rate_before, rate_after)
