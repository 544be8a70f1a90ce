"""The pure parts: RTSP parsing, transports, faults, SDP rewriting, H.264 keyframes, auth."""

from __future__ import annotations

import base64

import pytest

from mediagrid.simulator.camera import faults, sdp
from mediagrid.simulator.camera.auth import Authenticator, Credentials, parse_params
from mediagrid.simulator.camera.media import is_keyframe_start, parse_fps, parse_size
from mediagrid.simulator.camera.rtsp import (
    RtspError,
    Transport,
    UdpOffer,
    choose_transport,
    interleaved_frame,
    parse_head,
    url_path,
)
from mediagrid.simulator.camera.udp import bind_pair

FFMPEG_SDP = """v=0
o=- 0 0 IN IP4 127.0.0.1
s=No Name
t=0 0
a=tool:libavformat 63.1.102
m=video 40000 RTP/AVP 96
c=IN IP4 127.0.0.1
b=AS:500
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAFNoFB+wEQAAAAwBAAAAMo8UKqA==,aM48gA==
m=audio 40002 RTP/AVP 97
c=IN IP4 127.0.0.1
a=rtpmap:97 MPEG4-GENERIC/48000/1
"""


def test_parse_request_head():
    request = parse_head(b"SETUP rtsp://h:1/cam/trackID=1 RTSP/1.0\r\nCSeq: 3\r\n"
                         b"Transport: RTP/AVP/TCP;unicast;interleaved=2-3")
    assert (request.method, request.cseq) == ("SETUP", "3")
    assert request.header("TRANSPORT").endswith("interleaved=2-3")
    assert url_path(request.url) == "cam/trackID=1"
    with pytest.raises(RtspError) as bad:
        parse_head(b"GET / HTTP/1.1\r\n")
    assert bad.value.status == 400
    with pytest.raises(RtspError) as version:
        parse_head(b"OPTIONS * RTSP/2.0\r\n")
    assert version.value.status == 505


def test_transport_follows_the_clients_order_among_those_served():
    offered = "RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=4-5"
    assert choose_transport(offered, 0) == UdpOffer(5000, 5001, "RTP/AVP")
    assert choose_transport(offered, 0, ("tcp",)) == Transport(4, 5)
    assert choose_transport("RTP/AVP/TCP;unicast", 2) == Transport(2, 3)
    udp = choose_transport("RTP/AVP/UDP;unicast;client_port=6000", 0)
    assert udp.header(7000, 7001) == (
        "RTP/AVP/UDP;unicast;client_port=6000-6001;server_port=7000-7001")
    multicast_first = "RTP/AVP;multicast;client_port=5000-5001,RTP/AVP/TCP;interleaved=0-1"
    assert choose_transport(multicast_first, 0) == Transport(0, 1)  # multicast is skipped
    assert interleaved_frame(1, b"ab") == b"$\x01\x00\x02ab"


@pytest.mark.parametrize(
    ("offered", "allowed", "status"),
    [
        ("RTP/AVP;unicast;client_port=5000-5001", ("tcp",), 461),  # --transports tcp
        ("RTP/AVP/TCP;unicast;interleaved=0-1", ("udp",), 461),
        ("RTP/AVP;unicast", ("tcp", "udp"), 461),  # UDP without a port to send to
        ("RTP/AVP;multicast;client_port=5000-5001", ("tcp", "udp"), 461),
        ("RTP/AVP;unicast;client_port=x-y", ("udp",), 400),
        ("RTP/AVP;unicast;client_port=0-1", ("udp",), 400),
    ],
)
def test_transport_refusals(offered, allowed, status):
    with pytest.raises(RtspError) as refused:
        choose_transport(offered, 0, allowed)
    assert refused.value.status == status


def test_udp_port_pairs_are_even_and_odd_from_the_os():
    pairs = [bind_pair("127.0.0.1") for _ in range(3)]
    try:
        for rtp, rtcp in pairs:
            port = rtp.getsockname()[1]
            assert port % 2 == 0 and rtcp.getsockname()[1] == port + 1
        assert len({rtp.getsockname()[1] for rtp, _ in pairs}) == 3
    finally:
        for pair in pairs:
            for sock in pair:
                sock.close()


def test_fault_specs():
    assert faults.parse_fault("slow=0.5") == ("slow", 0.5)
    assert faults.parse_fault("stall") == ("stall", True)
    assert faults.parse_fault("broken-sdp") == ("broken-sdp", "malformed")
    for bad, hint in [("slw", "unknown fault"), ("slow", "needs seconds"),
                      ("slow=x", "must be seconds"), ("stall=1", "takes no value"),
                      ("broken-sdp=odd", "malformed")]:
        with pytest.raises(faults.FaultError, match=hint):
            faults.parse_fault(bad)
    state = faults.from_specs(["slow=1", "drop=2", "auth"])
    assert state.to_dict() == {"drop": 2.0, "slow": 1.0, "auth": True}
    faults.clear(state, "slow")
    assert "slow" not in state.to_dict()
    faults.clear(state)
    assert state.to_dict() == {}


def test_describe_sdp_has_controls_and_no_ports():
    text = sdp.describe(FFMPEG_SDP, "cam", 7)
    assert "m=video 0 RTP/AVP 96" in text and "m=audio 0 RTP/AVP 97" in text
    assert "a=control:trackID=0" in text and "a=control:trackID=1" in text
    assert "sprop-parameter-sets=Z0LA" in text
    assert "127.0.0.1\r\nb=" not in text  # the media-level c= lines are gone
    assert [s.kind for s in sdp.parse_media(text)] == ["video", "audio"]
    assert "m=" not in sdp.broken(text, "no-media")
    assert "v=0" not in sdp.broken(text, "malformed")


def test_keyframe_detection():
    assert is_keyframe_start(bytes([0x67, 0x42]))  # SPS
    assert is_keyframe_start(bytes([0x65, 0x88]))  # IDR slice
    assert not is_keyframe_start(bytes([0x41, 0x9A]))  # non-IDR slice
    assert is_keyframe_start(bytes([0x7C, 0x85]))  # FU-A, start, IDR
    assert not is_keyframe_start(bytes([0x7C, 0x05]))  # FU-A, middle of an IDR
    assert is_keyframe_start(bytes([0x78, 0x00, 0x02, 0x67, 0x42]))  # STAP-A with an SPS


def test_size_and_fps_parsing():
    assert parse_size("1280x720") == (1280, 720)
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size("1280")
    with pytest.raises(ValueError, match="even"):
        parse_size("321x240")
    assert parse_fps("30000/1001").denominator == 1001
    with pytest.raises(ValueError, match="between"):
        parse_fps("0")


def test_basic_auth():
    auth = Authenticator(Credentials("u", "p:w", "basic"))
    token = base64.b64encode(b"u:p:w").decode()
    assert auth.check("DESCRIBE", f"Basic {token}")
    assert not auth.check("DESCRIBE", "Basic " + base64.b64encode(b"u:x").decode())
    assert not auth.check("DESCRIBE", "Digest username=u")
    assert auth.challenge() == 'Basic realm="mediagrid"'


class _FixedNonce(Authenticator):
    def nonce_valid(self, nonce: str) -> bool:
        return nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093"


def test_digest_auth_rfc2617_example():
    # RFC 2617 section 3.5, with qop=auth
    auth = _FixedNonce(Credentials("Mufasa", "Circle Of Life", "digest",
                                   realm="testrealm@host.com"))
    header = ('Digest username="Mufasa", realm="testrealm@host.com", '
              'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, '
              'nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", '
              'opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    assert auth.check("GET", header)
    assert not auth.check("POST", header)
    assert parse_params(header.split(" ", 1)[1])["uri"] == "/dir/index.html"


def test_digest_nonces_expire():
    now = [1000.0]
    auth = Authenticator(Credentials("u", "p"), clock=lambda: now[0])
    nonce = parse_params(auth.challenge().split(" ", 1)[1])["nonce"]
    assert auth.nonce_valid(nonce)
    assert not auth.nonce_valid(nonce.replace(":", ":0"))
    now[0] += 301
    assert not auth.nonce_valid(nonce)
