"""Each fault does what it says, as a real ffmpeg client sees it."""

from __future__ import annotations

import time

import pytest

from tests.camera import clients


def _wait_for_a_client(camera, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while camera.status()["clients"] == 0:
        assert time.monotonic() < deadline, "the client never connected"
        time.sleep(0.05)


def test_refuse_gets_connection_refused_until_cleared(fake_camera, tmp_path):
    camera = fake_camera(faults=["refuse"])
    refused = clients.record(camera.url, tmp_path / "r.mkv", seconds=1)
    assert refused.returncode != 0
    assert "Connection refused" in refused.stderr
    camera.clear("refuse")
    assert clients.probe(camera.url).returncode == 0  # listening again, same port


def test_reset_closes_each_connection_at_once(fake_camera, tmp_path):
    camera = fake_camera()
    camera.inject("reset")
    reset = clients.record(camera.url, tmp_path / "r.mkv", seconds=1)
    assert reset.returncode != 0
    assert reset.frames() == 0


def test_stall_mid_stream_fires_the_client_timeout(fake_camera, tmp_path):
    camera = fake_camera(gop=5)
    started = time.monotonic()
    client = clients.start_recording(camera.url, tmp_path / "s.mkv", seconds=30, timeout_s=1)
    _wait_for_a_client(camera)
    time.sleep(1)
    camera.inject("stall")
    recording = clients.finish(client, tmp_path / "s.mkv", started)
    assert "timed out" in recording.stderr.lower(), recording.stderr
    assert 0 < recording.frames() < 30 * 25  # frames, then nothing


def test_stall_from_the_start_times_out_the_connect(fake_camera, tmp_path):
    camera = fake_camera(faults=["stall"])
    recording = clients.record(camera.url, tmp_path / "s.mkv", seconds=1, timeout_s=1)
    assert recording.returncode != 0
    assert recording.frames() == 0
    assert camera.status()["clients"] == 1  # the connection was kept open


def test_drop_closes_the_stream_after_n_seconds(fake_camera, tmp_path):
    camera = fake_camera(faults=["drop=1.5"], gop=5)
    recording = clients.record(camera.url, tmp_path / "d.mkv", seconds=30)
    assert recording.frames() > 0, recording.stderr
    info = clients.support.ffprobe_json(recording.path)
    assert float(info["format"]["duration"]) < 5  # ended long before the 30 s asked for


def test_drop_on_command(fake_camera, tmp_path):
    camera = fake_camera(gop=5)
    started = time.monotonic()
    client = clients.start_recording(camera.url, tmp_path / "d.mkv", seconds=30)
    _wait_for_a_client(camera)
    time.sleep(1)
    assert camera.drop() == 1
    recording = clients.finish(client, tmp_path / "d.mkv", started)
    assert recording.frames() > 0, recording.stderr
    info = clients.support.ffprobe_json(recording.path)
    assert float(info["format"]["duration"]) < 10  # ended at the drop, not after the 30 s


def test_slow_delays_every_response(fake_camera):
    camera = fake_camera()
    quick, reply = clients.options_round_trip(camera.port)
    assert reply.startswith("RTSP/1.0 200 OK")
    delay = 0.4
    camera.inject(f"slow={delay}")
    slow, reply = clients.options_round_trip(camera.port)
    assert reply.startswith("RTSP/1.0 200 OK")
    assert slow - quick >= delay * 0.9, (quick, slow)
    camera.clear("slow")
    again, _ = clients.options_round_trip(camera.port)
    assert again < slow - delay * 0.5


@pytest.mark.parametrize("kind", ["malformed", "no-media"])
def test_broken_sdp_makes_the_client_fail(fake_camera, tmp_path, kind):
    camera = fake_camera(faults=[f"broken-sdp={kind}"])
    recording = clients.record(camera.url, tmp_path / "b.mkv", seconds=1)
    assert recording.returncode != 0
    assert recording.frames() == 0
    camera.clear()
    assert clients.probe(camera.url).returncode == 0


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_credentials_401_without_them_stream_with_them(fake_camera, tmp_path, scheme):
    camera = fake_camera(user="viewer", password="s3cret pass", auth=scheme)
    without = clients.probe(camera.url)
    assert without.returncode != 0
    assert "401" in without.stderr
    wrong = clients.probe(camera.url.replace("rtsp://", "rtsp://viewer:nope@"))
    assert "401" in wrong.stderr
    recording = clients.record(camera.url_with_credentials(), tmp_path / "a.mkv", seconds=1)
    assert recording.returncode == 0, recording.stderr
    assert recording.frames() > 0


def test_auth_turns_on_and_off_at_runtime(fake_camera):
    camera = fake_camera()
    assert clients.probe(camera.url).returncode == 0
    camera.inject("auth")
    assert "401" in clients.probe(camera.url).stderr
    assert clients.probe(camera.url_with_credentials()).returncode == 0
    camera.clear("auth")
    assert clients.probe(camera.url).returncode == 0
