"""RTP over UDP (unicast), as real ffmpeg/ffprobe clients and a raw RTSP client see it; the
faults apply to UDP clients; `--transports tcp` refuses UDP with 461. After each test no
camera, client or camera ffmpeg is left, and a finished client leaves no UDP socket."""

from __future__ import annotations

import socket
import time
from fractions import Fraction

import pytest

from mediagrid.simulator.camera.media import is_keyframe_start
from tests.camera import clients
from tests.support import alive, wait_until


@pytest.fixture
def camera(fake_camera):
    """fake_camera, and at teardown: every camera's ffmpeg gone with it, no child left."""
    started = []

    def start(**options):
        cam = fake_camera(**options)
        started.append(cam)
        return cam

    yield start
    for cam in started:
        pids = [p["pid"] for p in cam.status()["producers"].values() if p["pid"]]
        assert cam.stop() == 0
        assert all(wait_until(lambda pid=pid: not alive(pid)) for pid in pids), pids
    assert clients.live_children() == []


def _sessions(cam) -> dict[str, int]:
    return cam.status()["sessions"]


def test_ffprobe_over_udp_reports_the_configured_stream(camera):
    cam = camera(size="176x144", fps=15, audio="pcmu")
    streams = clients.probe_streams(cam.url, transport="udp")  # no TCP fallback possible
    video = [s for s in streams if s["codec_type"] == "video"]
    sound = [s for s in streams if s["codec_type"] == "audio"]
    assert video[0]["codec_name"] == "h264"
    assert (video[0]["width"], video[0]["height"]) == (176, 144)
    assert Fraction(video[0]["r_frame_rate"]) == 15
    assert sound[0]["codec_name"] == "pcm_mulaw"


def test_udp_and_tcp_clients_at_once_and_no_udp_socket_left(camera, tmp_path):
    cam = camera(gop=5, always_on=True)
    pid = cam.process.pid
    producer_ports = clients.udp_ports(pid)  # ffmpeg -> camera: RTP and RTCP of 2 tracks
    assert len(producer_ports) == 4
    started = time.monotonic()
    udp = clients.start_recording(cam.url, tmp_path / "u.mkv", seconds=2, transport="udp")
    tcp = clients.start_recording(cam.url, tmp_path / "t.mkv", seconds=2, transport="tcp")
    assert wait_until(lambda: _sessions(cam) == {"tcp": 1, "udp": 1}), _sessions(cam)
    serving = clients.udp_ports(pid) - producer_ports
    assert len(serving) == 4 and min(serving) % 2 == 0  # an even/odd pair per track
    recordings = [clients.finish(udp, tmp_path / "u.mkv", started),
                  clients.finish(tcp, tmp_path / "t.mkv", started)]
    for recording in recordings:
        assert recording.returncode == 0, recording.stderr
        info = clients.support.ffprobe_json(recording.path)
        assert {s["codec_name"] for s in info["streams"]} == {"h264", "aac"}
        assert recording.frames() >= 35, recording.stderr  # 2 s at 25 fps, from a keyframe
    assert wait_until(lambda: _sessions(cam) == {"tcp": 0, "udp": 0})
    assert wait_until(lambda: clients.udp_ports(pid) == producer_ports), clients.udp_ports(pid)


def _request(sock: socket.socket, method: str, url: str, cseq: int, **headers: str) -> str:
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed; got {reply!r}"
        reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(dict(
        line.split(": ", 1) for line in head.decode().split("\r\n")[1:]
    ).get("Content-Length", 0))
    while len(body) < length:
        body += sock.recv(65536)
    assert head.startswith(b"RTSP/1.0 200"), head
    return head.decode()


def _header(reply: str, name: str) -> str:
    for line in reply.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} in {reply!r}")


def test_raw_udp_client_setup_play_rtcp_and_teardown(camera):
    cam = camera(gop=5, audio="none")
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with rtp, rtcp, socket.create_connection(("127.0.0.1", cam.port), timeout=10) as rtsp:
        rtp.bind(("127.0.0.1", 0))
        rtcp.bind(("127.0.0.1", 0))
        ports = f"{rtp.getsockname()[1]}-{rtcp.getsockname()[1]}"
        _request(rtsp, "DESCRIBE", cam.url, 1, Accept="application/sdp")
        reply = _request(rtsp, "SETUP", cam.url + "/trackID=0", 2,
                         Transport=f"RTP/AVP;unicast;client_port={ports}")
        transport = _header(reply, "Transport")
        assert transport.startswith(f"RTP/AVP;unicast;client_port={ports};server_port=")
        low, high = (int(p) for p in transport.rsplit("=", 1)[1].split("-"))
        assert low % 2 == 0 and high == low + 1
        assert {low, high} <= clients.udp_ports(cam.process.pid)
        session = _header(reply, "Session").split(";")[0]
        _request(rtsp, "PLAY", cam.url, 3, Session=session)
        rtp.settimeout(5)
        packet, source = rtp.recvfrom(65536)
        assert source == ("127.0.0.1", low)  # from the server's RTP port
        assert is_keyframe_start(packet[12:])  # this client starts at a keyframe
        rtcp.settimeout(8)  # ffmpeg sends a sender report about every 5 s
        report, source = rtcp.recvfrom(65536)
        assert source == ("127.0.0.1", high) and report[1] == 200  # RTCP SR
        _request(rtsp, "TEARDOWN", cam.url, 4, Session=session)
        assert wait_until(lambda: not {low, high} & clients.udp_ports(cam.process.pid))
        rtp.settimeout(0.5)
        with pytest.raises(TimeoutError):
            while True:
                rtp.recv(65536)  # what was in flight, then nothing more


def test_stall_is_seen_by_a_udp_client_and_keeps_its_session(camera, tmp_path):
    cam = camera(gop=5)
    started = time.monotonic()
    client = clients.start_recording(cam.url, tmp_path / "s.mkv", seconds=30, timeout_s=1,
                                     transport="udp")
    assert wait_until(lambda: _sessions(cam)["udp"] == 1)
    assert wait_until(lambda: cam.status()["delivered"] >= 50, 15)  # frames flowed
    cam.inject("stall")
    assert _sessions(cam)["udp"] == 1  # stalled, not ended
    recording = clients.finish(client, tmp_path / "s.mkv", started)
    assert "timed out" in recording.stderr.lower(), recording.stderr
    assert 0 < recording.frames() < 30 * 25  # frames, then nothing
    cam.clear()
    assert wait_until(lambda: _sessions(cam)["udp"] == 0)  # it left: its sockets went with it


def test_drop_ends_a_udp_clients_stream(camera, tmp_path):
    cam = camera(faults=["drop=1.5"], gop=5, always_on=True)
    producer_ports = clients.udp_ports(cam.process.pid)
    recording = clients.record(cam.url, tmp_path / "d.mkv", seconds=30, transport="udp")
    assert recording.frames() > 0, recording.stderr
    info = clients.support.ffprobe_json(recording.path)
    assert float(info["format"]["duration"]) < 5  # ended long before the 30 s asked for
    assert clients.udp_ports(cam.process.pid) == producer_ports  # nothing sent any more


def test_tcp_only_camera_answers_461_to_udp(camera):
    cam = camera(transports=("tcp",), audio="none")
    assert cam.ready["transports"] == ["tcp"]
    refused = clients.probe(cam.url, transport="udp")
    assert refused.returncode != 0 and "461" in refused.stderr, refused.stderr
    fallback = clients.probe(cam.url, transport=None)  # ffprobe's default: UDP, then TCP
    assert fallback.returncode == 0, fallback.stderr
