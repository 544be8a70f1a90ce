"""The media layer's pure parts: MPEG-TS parsing, windowed meters, qualities."""

from __future__ import annotations

import random
import subprocess
from fractions import Fraction

import pytest

from mediagrid import sdk
from mediagrid.reference.media import ffmpeg_path
from mediagrid.sdk.media import VIDEO_CODECS, Quality, ts
from mediagrid.sdk.media.meter import LatencyWindow, Meter
from mediagrid.sdk.media.quality import parse_bitrate, parse_size
from mediagrid.v1 import common_pb2
from tests.sdk.conftest import FakeClock
from tests.sdk.media.conftest import FRAMES, GOP

VIDEO, AUDIO = sdk.MediaType.VIDEO, sdk.MediaType.AUDIO


def infos(data: bytes, audio: bool = False) -> list[ts.PacketInfo]:
    return [ts.inspect(p, audio) for p in ts.PacketSplitter().feed(data)]


def test_frames_and_keyframes_are_found_where_ffmpeg_put_them(h264_ts, aac_ts):
    found = infos(h264_ts)
    assert sum(i.frame_start for i in found) == FRAMES  # one PES per video frame
    assert sum(i.keyframe for i in found) == FRAMES // GOP
    assert found[[i.frame_start for i in found].index(True)].keyframe  # starts with one
    audio = infos(aac_ts, audio=True)
    assert sum(i.frame_start for i in audio) == sum(i.keyframe for i in audio) > 0
    pat = next(p for p in ts.PacketSplitter().feed(h264_ts) if ts.pid_of(p) == ts.PAT_PID)
    assert ts.pmt_pids(pat) == {0x1000}  # ffmpeg's PMT PID


def test_splitter_keeps_packets_across_reads_and_resyncs(h264_ts, chunks):
    splitter = ts.PacketSplitter()
    packets = [p for piece in chunks(h264_ts, 1000) for p in splitter.feed(piece)]
    assert b"".join(packets) == h264_ts
    splitter = ts.PacketSplitter()
    assert splitter.feed(b"junk!" + h264_ts[:376]) == [h264_ts[:188], h264_ts[188:376]]
    assert splitter.skipped == 5


def test_continuity_counters_run_on_across_two_streams(h264_ts, other_ts):
    counter = ts.ContinuityCounter()
    out = [counter.apply(p) for p in ts.PacketSplitter().feed(h264_ts + other_ts)]
    last: dict[int, int] = {}
    for packet in out:
        pid, cc = ts.pid_of(packet), packet[3] & 0x0F
        if packet[3] & 0x10 and pid in last:
            assert cc == (last[pid] + 1) % 16, pid
        if packet[3] & 0x10:
            last[pid] = cc
    assert ts.PacketSplitter().feed(h264_ts)[5][4:] == out[5][4:]  # only the counter changes


def test_counters_rewritten_a_chunk_at_a_time_match_packet_by_packet(h264_ts, other_ts,
                                                                      aac_ts):
    """The relay rewrites counters a chunk at a time (a column shift for the elementary
    stream, tables one by one); the result must be what `apply` gives packet by packet, over
    switches between encoders, restarts and skipped packets, for video and audio."""
    rng = random.Random(9)
    streams = [h264_ts, other_ts, aac_ts]
    for _ in range(200):
        pieces = []  # runs of one muxer's output, cut into reads; a jump between runs
        for _ in range(rng.randint(1, 5)):
            stream = rng.choice(streams)
            count = len(stream) // ts.PACKET_SIZE
            first = rng.randrange(count)
            last = min(count, first + rng.randint(1, 300))
            while first < last:
                end = min(last, first + rng.randint(1, 40))
                pieces.append(stream[first * ts.PACKET_SIZE : end * ts.PACKET_SIZE])
                first = end
        by_packet, by_chunk = ts.ContinuityCounter(), ts.ContinuityCounter()
        expected = b"".join(by_packet.apply(p) for p in ts.PacketSplitter().feed(b"".join(
            pieces)))
        assert b"".join(by_chunk.rewrite(piece) for piece in pieces) == expected


def test_counters_of_a_stream_with_audio_and_video_are_rewritten_per_pid(h264_ts):
    # A module's output with sound: two elementary streams in one chunk must not share the
    # video's shift; after a switch from another encoder each PID runs on from its own.
    av = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=sample_rate=48000",
         "-t", "1", "-c:v", "libx264", "-c:a", "aac", "-f", "mpegts", "pipe:1"],
        capture_output=True, check=True, timeout=60).stdout
    for before in range(37, 41):  # the video's shift after the switch: 0 for one of them
        pieces = [h264_ts[: before * ts.PACKET_SIZE]] + [
            av[o : o + 20 * ts.PACKET_SIZE] for o in range(0, len(av), 20 * ts.PACKET_SIZE)]
        by_packet, by_chunk = ts.ContinuityCounter(), ts.ContinuityCounter()
        expected = b"".join(by_packet.apply(p) for p in ts.PacketSplitter().feed(
            b"".join(pieces)))
        assert b"".join(by_chunk.rewrite(piece) for piece in pieces) == expected, before


def test_whole_packets_and_unit_starts_are_found_a_chunk_at_a_time(h264_ts, chunks):
    splitter = ts.PacketSplitter()
    pieces = [splitter.whole(piece) for piece in chunks(h264_ts, 1000)]
    assert b"".join(pieces) == h264_ts and all(len(p) % ts.PACKET_SIZE == 0 for p in pieces)
    splitter = ts.PacketSplitter()  # off the packet boundary: resynchronised on the sync byte
    assert splitter.whole(b"junk!" + h264_ts[:400]) == h264_ts[:376]
    assert splitter.skipped == 5 and splitter.whole(h264_ts[400:564]) == h264_ts[376:564]
    starts = [o for o in range(0, len(h264_ts), ts.PACKET_SIZE) if ts.unit_start(
        h264_ts[o : o + ts.PACKET_SIZE])]
    assert ts.unit_starts(h264_ts) == starts
    assert ts.frame_starts(h264_ts) == FRAMES


def test_whole_resynchronises_on_junk_inside_a_read_not_only_at_its_start(h264_ts):
    # A read that starts on a packet but loses sync inside it (bytes lost in a pipe, a
    # muxer's stray write): whole() gives only whole packets, the junk skipped and counted.
    splitter = ts.PacketSplitter()
    read = h264_ts[:376] + b"junk" + h264_ts[376:752]
    assert splitter.whole(read) == h264_ts[:752] and splitter.skipped == 4
    assert splitter.whole(h264_ts[752:940]) == h264_ts[752:940]


def test_meter_rates_are_windowed_and_fall_to_zero():
    clock = FakeClock(100.0)
    meter = Meter(3.0, clock=clock)
    for _ in range(40):  # 10 per second for 4 s
        clock.now += 0.1
        meter.add(1)
    assert meter.rate() == pytest.approx(10, rel=0.05)
    for _ in range(20):  # then 40 per second: the rate follows within the window
        clock.now += 0.1
        meter.add(4)
    assert meter.rate() == pytest.approx((10 * 1 + 40 * 2) / 3, rel=0.1)  # not since the start
    assert meter.idle_for() == 0
    moving = meter.rate()
    clock.now += 1.5
    assert 0 < meter.rate() < 0.75 * moving  # falling from the moment nothing moves
    clock.now += 3.0
    assert meter.rate() == 0 and meter.idle_for() == pytest.approx(4.5)
    assert meter.total == 120


def test_meter_does_not_spike_on_two_close_samples():
    clock = FakeClock()
    meter = Meter(clock=clock)
    meter.add(100)
    clock.now += 0.01
    meter.add(100)
    assert meter.rate() <= 100 / 0.5


def test_latency_window_median_and_not_measured():
    clock = FakeClock()
    window = LatencyWindow(3.0, clock=clock)
    assert window.median() == -1  # the contract's "not measured"
    for value in (100, 120, 900, 110):
        window.add(value)
    assert window.median() == 115
    clock.now += 3.5
    assert window.median() == -1


def test_quality_merge_checks_and_keeps_unset_fields():
    base = Quality(VIDEO, "h264", bitrate=500_000, width=640, height=360, fps=Fraction(25))
    merged = base.merged(common_pb2.QualityProfile(bitrate=900_000))
    assert (merged.codec, merged.bitrate, merged.width) == ("h264", 900_000, 640)
    resized = base.merged(common_pb2.QualityProfile(resolution=common_pb2.Resolution(
        width=320, height=180), video_codec="hevc"))
    assert (resized.codec, resized.width, resized.height) == ("hevc", 320, 180)
    with pytest.raises(sdk.FailedPrecondition, match="MPEG-TS"):
        base.merged(common_pb2.QualityProfile(video_codec="vp9"))
    with pytest.raises(sdk.InvalidArgument, match=r"quality\.resolution 321x180.*322x180"):
        base.merged(common_pb2.QualityProfile(resolution=common_pb2.Resolution(
            width=321, height=180)))
    with pytest.raises(sdk.InvalidArgument, match=r"quality\.bitrate"):
        base.merged(common_pb2.QualityProfile(bitrate=1))
    copied = Quality(VIDEO, "copy", bitrate=0)
    with pytest.raises(sdk.FailedPrecondition, match="codec copy"):
        copied.merged(common_pb2.QualityProfile(bitrate=900_000))
    assert copied.encoder_args() == ["-c:v", "copy"]


def test_encoder_arguments_keep_keyframes_within_two_seconds():
    args = Quality(VIDEO, "h264", bitrate=800_000, gop=200).encoder_args()
    assert args[args.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*2)"  # P-23
    assert args[args.index("-b:v") + 1] == "800000"
    audio = Quality(AUDIO, "opus", bitrate=64_000).encoder_args()
    assert audio[:2] == ["-c:a", "libopus"] and "48000" in audio


@pytest.mark.parametrize("codec", VIDEO_CODECS)
def test_the_keyframe_interval_asked_for_is_the_one_encoded(codec):
    quality = Quality(VIDEO, codec, bitrate=300_000, fps=Fraction(25), gop=5)
    data = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc2=size=160x120:rate=25", "-frames:v", "20", *quality.encoder_args(),
         "-f", "mpegts", "pipe:1"], capture_output=True, check=True, timeout=60).stdout
    found = infos(data)
    assert sum(i.frame_start for i in found) == 20
    assert sum(i.keyframe for i in found) == 4  # one every 5 frames, as the config says


def test_config_values_are_parsed_or_refused_naming_the_key():
    assert parse_size("640x360") == (640, 360)
    assert parse_bitrate("1.5M") == 1_500_000 and parse_bitrate("800k") == 800_000
    with pytest.raises(sdk.InvalidArgument, match=r"config\.size 0x360 is impossible"):
        parse_size("0x360")
    with pytest.raises(sdk.InvalidArgument, match=r"config\.bitrate"):
        parse_bitrate("fast")
