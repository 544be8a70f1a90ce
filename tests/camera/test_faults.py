"""Each fault does what it says, as a real ffmpeg client sees it."""

from __future__ import annotations

import socket
import time

import pytest

from mediagrid.simulator.camera.faults import FaultError, parse_fault
from mediagrid.simulator.camera.process import CameraProcessError
from tests.camera import clients
from tests.support import wait_until


def _wait_for_media(camera, packets: int = 50, timeout: float = 15.0) -> None:
    """Until the connected client has been sent `packets` RTP packets (frames flowed)."""
    assert wait_until(lambda: camera.status()["delivered"] >= packets, timeout), \
        f"no media reached the client: {camera.status()}"


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
    # Accepted (a camera that is down refuses), then closed before any answer.
    with socket.create_connection(("127.0.0.1", camera.port), timeout=5) as sock:
        sock.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        try:
            assert sock.recv(4096) == b""
        except ConnectionResetError:
            pass
    reset = clients.record(camera.url, tmp_path / "r.mkv", seconds=1)
    assert reset.returncode != 0 and reset.frames() == 0
    assert "refused" not in reset.stderr.lower(), reset.stderr
    camera.clear("reset")
    assert clients.probe(camera.url).returncode == 0


def test_stall_mid_stream_fires_the_client_timeout(fake_camera, tmp_path):
    camera = fake_camera(gop=5)
    started = time.monotonic()
    client = clients.start_recording(camera.url, tmp_path / "s.mkv", seconds=30, timeout_s=1)
    _wait_for_media(camera)
    camera.inject("stall")
    recording = clients.finish(client, tmp_path / "s.mkv", started)
    assert "timed out" in recording.stderr.lower(), recording.stderr
    assert 0 < recording.frames() < 30 * 25  # frames, then nothing
    assert recording.seconds < 20  # ended by the stall, not by the 30 s asked for


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
    _wait_for_media(camera)
    assert camera.drop() == 1
    recording = clients.finish(client, tmp_path / "d.mkv", started)
    assert recording.frames() > 0, recording.stderr
    info = clients.support.ffprobe_json(recording.path)
    assert float(info["format"]["duration"]) < 10  # ended at the drop, not after the 30 s


def test_drop_injected_while_a_client_plays_applies_to_it(fake_camera, tmp_path):
    camera = fake_camera(gop=5)
    started = time.monotonic()
    client = clients.start_recording(camera.url, tmp_path / "d.mkv", seconds=30)
    _wait_for_media(camera)
    playing_for = time.monotonic() - started
    camera.inject("drop=1")  # counted from now for the client already playing
    recording = clients.finish(client, tmp_path / "d.mkv", started)
    assert recording.frames() > 0, recording.stderr
    assert recording.seconds < playing_for + 8, recording.seconds  # not the 30 s asked for
    assert camera.status()["clients"] == 0


def test_out_of_range_fault_values_are_refused(fake_camera):
    for spec in ("slow=-1", "drop=3601", "slow=nan", "drop=-0.5"):
        with pytest.raises(FaultError, match=r"0 and 3600|seconds"):
            parse_fault(spec)
    camera = fake_camera()
    for spec in ("slow=-1", "drop=3601"):
        with pytest.raises(CameraProcessError, match="between 0 and 3600"):
            camera.inject(spec)
    assert camera.status()["faults"] == {}  # nothing was set
    assert clients.options_round_trip(camera.port)[0] < 2  # and no delay crept in


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
    raw = clients.RawRtsp(camera.port)
    try:
        status, headers, body = raw.request("DESCRIBE", camera.url, Accept="application/sdp")
    finally:
        raw.close()
    assert status == 200 and headers["content-type"] == "application/sdp"  # it answers...
    if kind == "no-media":
        assert body.startswith("v=0") and "\nm=" not in body  # ...a session with no media
    else:
        assert not body.startswith("v=0") and "m=video\r\n" in body  # ...a mangled SDP
    recording = clients.record(camera.url, tmp_path / "b.mkv", seconds=1)
    assert recording.returncode != 0
    assert recording.frames() == 0
    assert "refused" not in recording.stderr.lower(), recording.stderr
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


@pytest.mark.parametrize("scheme", ["basic", "digest"])
def test_every_method_but_options_needs_the_credentials(fake_camera, scheme):
    camera = fake_camera(user="viewer", password="s3cret", auth=scheme)
    raw = clients.RawRtsp(camera.port)

    def login(method: str, url: str, challenge: str) -> str:
        return clients.authorization(scheme, "viewer", "s3cret", method, url, challenge)

    try:
        assert raw.request("OPTIONS", camera.url)[0] == 200
        status, headers, _ = raw.request("DESCRIBE", camera.url)
        assert status == 401
        challenge = headers["www-authenticate"]
        status, _, sdp = raw.request("DESCRIBE", camera.url, Authorization=login(
            "DESCRIBE", camera.url, challenge))
        assert status == 200 and "m=video" in sdp
        track = camera.url + "/trackID=0"
        transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        assert raw.request("SETUP", track, Transport=transport)[0] == 401  # no credentials
        wrong = clients.authorization(scheme, "viewer", "guess", "SETUP", track, challenge)
        assert raw.request("SETUP", track, Transport=transport,
                           Authorization=wrong)[0] == 401  # wrong ones
        status, headers, _ = raw.request("SETUP", track, Transport=transport,
                                         Authorization=login("SETUP", track, challenge))
        assert status == 200
        session = headers["session"].split(";")[0]
        assert raw.request("PLAY", camera.url, Session=session)[0] == 401
        assert raw.request("PLAY", camera.url, Session=session, Authorization=login(
            "PLAY", camera.url, challenge))[0] == 200
    finally:
        raw.close()
