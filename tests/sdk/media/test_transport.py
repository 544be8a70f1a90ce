"""A connection's two ends over real loopback sockets: the Destination (source side) starts a
target at a keyframe, switches encoders between frames, reconnects over TCP; the Receiver
(target side) binds the bind host, counts what arrives and hands it on."""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess

from mediagrid.reference.media import ffmpeg_path
from mediagrid.sdk import Endpoint
from mediagrid.sdk.media import Destination, Feed, Receiver, endpoints, ts
from mediagrid.v1 import common_pb2
from tests import support
from tests.sdk.media.conftest import FRAMES, GOP, encode


def packets_of(data: bytes) -> list[bytes]:
    return ts.PacketSplitter().feed(data)


def unnumbered(packet: bytes) -> bytes:
    """A packet without its continuity counter (which the destination rewrites)."""
    return packet[:3] + bytes([packet[3] & 0xF0]) + packet[4:]


def decodable_frames(data: bytes) -> tuple[int, str]:
    """Frames ffmpeg decodes from an MPEG-TS byte string, and what it complained about."""
    result = subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "warning", "-f", "mpegts", "-i", "pipe:0",
         "-f", "null", "-", "-progress", "pipe:1", "-nostats"],
        input=data, capture_output=True, timeout=60)
    frames = [line for line in result.stdout.decode().split() if line.startswith("frame=")]
    return int(frames[-1].split("=")[1]), result.stderr.decode()


async def received_over_udp(feed_pushes, switch_at: int | None = None, to: Feed | None = None
                            ) -> tuple[bytes, Destination, Feed | None, Receiver]:
    """Runs a Receiver and a Destination on loopback, pushes the given (feed, bytes) pairs
    (switching to `to` before push number `switch_at`), and returns what arrived, the
    destination, the feed it ended on and the (closed) receiver with its counts."""
    receiver = Receiver(Endpoint("udp://127.0.0.1:1?pkt_size=1316"))
    receiver.address = endpoints.Address("mpegts-udp", "127.0.0.1", 0)
    endpoint = await receiver.open()
    got: list[bytes] = []
    receiver.consumers.append(got.append)
    destination = Destination(endpoints.address_of(endpoint))
    await destination.open()
    destination.attach(feed_pushes[0][0])
    try:
        for n, (feed, data) in enumerate(feed_pushes):
            if n == switch_at:
                assert to is not None
                destination.switch_to(to)
            feed.push(data)
            await asyncio.sleep(0.002)  # the loopback and the receiving callback keep up
        sent = destination.bytes.total
        await support.eventually(lambda: receiver.bytes.total == sent, 10)
        last_feed = destination.feed
    finally:
        destination.close()
        receiver.close()
    return b"".join(got), destination, last_feed, receiver


def test_a_target_joining_mid_stream_starts_at_a_keyframe(h264_ts, chunks):
    feed = Feed()
    pieces = chunks(h264_ts, 1316)
    early = pieces[: len(pieces) // 3]
    for piece in early:  # the source has been running before the target joins
        feed.push(piece)
    data, destination, _, receiver = asyncio.run(
        received_over_udp([(feed, p) for p in pieces[len(early):]]))
    first = packets_of(data)[:3]
    assert [ts.pid_of(p) for p in first[:2]] == [ts.PAT_PID, 0x1000]  # tables first
    assert ts.inspect(first[2]).keyframe  # then a keyframe: decodable from its first frame
    frames, complaints = decodable_frames(data)
    assert frames == destination.frames.total and 0 < frames < FRAMES
    assert frames % GOP == 0  # whole GOPs from a keyframe on
    assert receiver.frames.total == frames  # counted per frame (PES) at the target too, P-10
    assert "corrupt" not in complaints.lower() and "error" not in complaints.lower()


def test_a_switch_cuts_between_frames_and_the_target_decodes_on(h264_ts, other_ts, chunks):
    old, new = Feed(), Feed()
    old_pieces, new_pieces = chunks(h264_ts, 1316), chunks(other_ts, 1316)
    pushes = []  # both encoders run side by side, as during a quality switch
    for n in range(max(len(old_pieces), len(new_pieces))):
        pushes += [(old, old_pieces[n])] if n < len(old_pieces) else []
        pushes += [(new, new_pieces[n])] if n < len(new_pieces) else []

    def next_new_frame_is_a_keyframe(at: int) -> bool:
        infos = (ts.inspect(p) for f, d in pushes[at:] if f is new for p in packets_of(d))
        return next(i.keyframe for i in infos if i.frame_start)

    # The new encoder is already running (a quality another connection uses) and mid-GOP
    # at the switch: the target must get it from its next keyframe, not its next frame (P-9).
    switch_at = next(n for n in range(len(pushes) // 3, len(pushes))
                     if not next_new_frame_is_a_keyframe(n))
    data, destination, last_feed, _ = asyncio.run(received_over_udp(pushes, switch_at, new))
    assert destination.switches == 1 and last_feed is new
    new_frames = {unnumbered(p): ts.inspect(p).keyframe for p in packets_of(other_ts)
                  if ts.inspect(p).frame_start}
    assert not new_frames.keys() & set(map(unnumbered, packets_of(h264_ts)))  # told apart
    first_new = next(unnumbered(p) for p in packets_of(data) if unnumbered(p) in new_frames)
    assert new_frames[first_new], "the switch started the new encoder mid-GOP"
    frames, complaints = decodable_frames(data)
    assert frames == destination.frames.total
    assert "error" not in complaints.lower() and "non-monoton" not in complaints
    counter: dict[int, int] = {}
    for packet in packets_of(data):  # one continuous stream for the target
        pid = ts.pid_of(packet)
        if packet[3] & 0x10:
            assert pid not in counter or packet[3] & 0x0F == (counter[pid] + 1) % 16
            counter[pid] = packet[3] & 0x0F


def test_a_switch_sends_the_new_encoders_tables_before_its_first_keyframe(h264_ts, chunks):
    # P-9: a target switched to another encoder gets that encoder's PAT and PMT, then its
    # keyframe; here they differ from the old one's (another program number), as they do
    # where the new encoder's stream is laid out otherwise.
    other = encode("-mpegts_service_id", "2", "-b:v", "50k", gop=5)
    old, new = Feed(), Feed()
    old_pieces, new_pieces = chunks(h264_ts, 1316), chunks(other, 1316)
    pushes = [(feed, pieces[n]) for n in range(min(len(old_pieces), len(new_pieces)))
              for feed, pieces in ((old, old_pieces), (new, new_pieces))]
    data, destination, last_feed, _ = asyncio.run(
        received_over_udp(pushes, len(pushes) // 3, new))
    assert destination.switches == 1 and last_feed is new
    only_new = set(map(unnumbered, packets_of(other))) - set(map(unnumbered, packets_of(h264_ts)))
    tables = [unnumbered(p) for p in packets_of(other)
              if ts.pid_of(p) in (ts.PAT_PID, 0x1000)][:2]
    sent = [unnumbered(p) for p in packets_of(data)]
    first_new = next(n for n, p in enumerate(sent) if p in only_new)
    assert sent[first_new : first_new + 2] == tables, "the new encoder's tables came late"
    assert ts.inspect(packets_of(data)[first_new + 2]).keyframe


def test_a_switch_cuts_the_old_feed_at_its_next_frame_and_counts_every_held_frame(
        h264_ts, other_ts, chunks):
    # The new encoder's keyframe and a few more frames are held while the old encoder is in
    # the middle of a frame; the old feed is cut at its very next frame start (a P-frame
    # here, not the keyframe after it), and every frame the target gets is counted (P-10).
    old = Feed(clock=lambda: 0.0)  # never idle: the cut waits for the old feed's frame
    new = Feed()
    old_pieces, new_pieces = chunks(h264_ts, 1316), chunks(other_ts, 1316)

    def first_frame_from(offset: int) -> int:
        return next(o for o in ts.unit_starts(h264_ts) if o >= offset and ts.pes_start(
            h264_ts[o : o + ts.PACKET_SIZE]))
    at = next(n for n in range(len(old_pieces) // 3, len(old_pieces))
              if not ts.inspect(h264_ts[(o := first_frame_from(n * 1316)):o + 188]).keyframe)
    keyframe_piece = next(n for n, p in enumerate(new_pieces) if any(
        i.keyframe for i in map(ts.inspect, packets_of(p))))
    held = new_pieces[: keyframe_piece + 4]
    pushes = [(old, p) for p in old_pieces[:at]] + [(new, p) for p in held] + \
        [(old, p) for p in old_pieces[at:]]
    data, destination, last_feed, _ = asyncio.run(received_over_udp(pushes, at, new))
    assert destination.switches == 1 and last_feed is new
    old_only = set(map(unnumbered, packets_of(h264_ts))) - set(map(unnumbered,
                                                                   packets_of(other_ts)))
    last_old = [unnumbered(p) for p in packets_of(data) if unnumbered(p) in old_only][-1]
    cut = first_frame_from(at * 1316)
    assert last_old == unnumbered(h264_ts[cut - 188 : cut]), "not cut at the next frame"
    assert ts.frame_starts(b"".join(held[keyframe_piece + 1 :])) > 0  # held over reads
    assert destination.frames.total == ts.frame_starts(data)


def test_tcp_destination_reconnects_to_a_target_that_comes_back(h264_ts, chunks):
    async def run() -> None:
        receiver = Receiver(Endpoint("tcp://127.0.0.1:1", "mpegts-tcp"))
        receiver.address = endpoints.Address("mpegts-tcp", "127.0.0.1", 0)
        endpoint = await receiver.open()
        assert endpoint.url.startswith("tcp://127.0.0.1:") and endpoint.transport == "mpegts-tcp"
        feed = Feed()
        destination = Destination(endpoints.address_of(endpoint))
        await destination.open()
        destination.attach(feed)
        pieces = chunks(h264_ts, 1316)
        try:
            async def push_until(condition) -> None:
                async with asyncio.timeout(15):
                    for piece in pieces * 50:
                        feed.push(piece)
                        await asyncio.sleep(0.002)
                        if condition():
                            return
            await push_until(lambda: receiver.frames.total >= 10)
            receiver.close()  # the target goes away and comes back on the same port
            # The target is back before the next packet is sent (a bare listener on the
            # same port): the new connection still starts afresh (P-23), with the tables
            # and then a keyframe, not in the middle of the GOP the old one left off in.
            connected, got = asyncio.Event(), []

            async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                connected.set()
                while data := await reader.read(65536):
                    got.append(data)
                writer.close()

            server = await asyncio.start_server(accept, "127.0.0.1", receiver.address.port,
                                                reuse_address=True)
            try:
                await asyncio.wait_for(connected.wait(), 10)
                await push_until(lambda: ts.frame_starts(b"".join(got)) >= 10)
            finally:
                server.close()
            first = packets_of(b"".join(got))[:3]
            assert [ts.pid_of(p) for p in first[:2]] == [ts.PAT_PID, 0x1000]
            assert ts.inspect(first[2]).keyframe
        finally:
            destination.close()
            receiver.close()
    asyncio.run(run())


def test_receiver_binds_the_bind_host_and_keeps_the_advertised_endpoint():
    async def run() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            advertised = Endpoint(f"udp://camera-host.example:{port}?pkt_size=1316",
                                  format=common_pb2.MediaFormat(container="mpegts"))
            receiver = Receiver(advertised, bind_host="127.0.0.1")
            endpoint = await receiver.open()  # the port was taken: another, same host
            try:
                assert endpoint.url.startswith("udp://camera-host.example:")
                assert endpoint.url.endswith("?pkt_size=1316") and f":{port}?" not in endpoint.url
                assert endpoint.format.container == "mpegts"
                bound = receiver.address.port
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                    probe.sendto(b"\x47" + bytes(187), ("127.0.0.1", bound))
                await support.eventually(lambda: receiver.bytes.total == 188, 5)
            finally:
                receiver.close()
    asyncio.run(run())


def test_s10_the_receiver_binds_the_bind_host_not_every_address():
    async def run() -> None:
        for transport, kind in (("mpegts-udp", socket.SOCK_DGRAM),
                                ("mpegts-tcp", socket.SOCK_STREAM)):
            scheme = transport.removeprefix("mpegts-")
            receiver = Receiver(Endpoint(f"{scheme}://127.0.0.1:1", transport),
                                bind_host="127.0.0.1")
            receiver.address = endpoints.Address(transport, "127.0.0.1", 0)
            await receiver.open()
            try:  # the same port on another loopback address is free: had the receiver
                with socket.socket(socket.AF_INET, kind) as other:  # bound 0.0.0.0, EADDRINUSE
                    other.bind(("127.0.0.2", receiver.address.port))
            finally:
                receiver.close()
    asyncio.run(run())


def test_udp_goes_out_in_1316_byte_datagrams_whether_or_not_the_kernel_cuts_them(h264_ts):
    """Contract §4.1's datagrams of 7 packets: the destination hands the kernel many of them
    in one send where it can (UDP_SEGMENT) and one by one where it cannot; a plain receiver
    sees the same datagrams either way, and the same bytes are counted as sent."""
    async def sent(target: socket.socket, segmented: bool) -> list[int]:
        feed = Feed()
        destination = Destination(endpoints.Address("mpegts-udp", "127.0.0.1",
                                                     target.getsockname()[1]))
        await destination.open()
        destination._segmented = destination._segmented and segmented
        destination.attach(feed)
        feed.push(h264_ts[: 60 * ts.PACKET_SIZE])  # tables, then a keyframe
        sizes: list[int] = []
        try:
            await support.eventually(lambda: sizes.extend(drain(target)) or
                                     sum(sizes) == destination.bytes.total > 0, 5)
        finally:
            destination.close()
        return sizes

    async def run() -> tuple[list[int], list[int]]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as target:
            target.bind(("127.0.0.1", 0))
            target.setblocking(False)
            return await sent(target, True), await sent(target, False)
    segmented, one_by_one = asyncio.run(run())
    assert segmented == one_by_one
    assert set(segmented[:-1]) == {1316} and 0 < segmented[-1] <= 1316, segmented
    assert sum(segmented) % ts.PACKET_SIZE == 0 and sum(segmented) > 50 * ts.PACKET_SIZE


def drain(sock: socket.socket) -> list[int]:
    sizes = []
    while True:
        try:
            sizes.append(len(sock.recv(65536)))
        except BlockingIOError:
            return sizes


SO_NO_CHECK = getattr(socket, "SO_NO_CHECK", 11)
"""Linux: UDP without checksums, which the kernel refuses to segment (EINVAL on each send)."""


def test_udp_falls_back_to_one_datagram_per_send_where_segmented_sends_are_refused(h264_ts):
    # A route that cannot take segmented sends (here: a socket without UDP checksums) fails
    # each one; the destination goes on one datagram at a time from the refused send on, and
    # the target gets every packet in 1316-byte datagrams, none twice, none dropped.
    data = h264_ts[: 60 * ts.PACKET_SIZE]  # tables, then a keyframe

    async def run() -> tuple[list[bytes], Destination]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as target:
            target.bind(("127.0.0.1", 0))
            target.setblocking(False)
            feed = Feed()
            destination = Destination(endpoints.Address("mpegts-udp", "127.0.0.1",
                                                         target.getsockname()[1]))
            await destination.open()
            assert destination._segmented, "UDP_SEGMENT is not available here"
            assert destination._udp is not None
            destination._udp.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
            destination.attach(feed)
            got: list[bytes] = []
            try:
                feed.push(data)
                await support.eventually(lambda: got.extend(datagrams(target)) or
                                         sum(map(len, got)) >= destination.bytes.total > 0, 5)
            finally:
                destination.close()
            return got, destination
    got, destination = asyncio.run(run())
    assert not destination._segmented and destination.dropped == 0
    assert {len(d) for d in got[:-1]} == {1316} and 0 < len(got[-1]) <= 1316
    sent = b"".join(got)
    assert len(sent) == destination.bytes.total
    after_tables = [unnumbered(p) for p in packets_of(sent)][2:]  # from the keyframe on:
    assert ts.inspect(packets_of(sent)[2]).keyframe  # every packet of the push, in order
    assert after_tables == [unnumbered(p) for p in packets_of(data)][-len(after_tables):]


def test_a_udp_target_without_a_route_drops_and_counts_and_the_feeds_other_targets_go_on(
        h264_ts):
    # One target the socket refuses to send to (a broadcast address without SO_BROADCAST:
    # EACCES, as ENETUNREACH is where a route goes away) must not stop the chunk reaching
    # the feed's other targets: its packets are dropped and counted.
    data = h264_ts[: 60 * ts.PACKET_SIZE]

    async def run() -> tuple[int, Destination, Destination]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as target:
            target.bind(("127.0.0.1", 0))
            target.setblocking(False)
            feed = Feed()
            refused = Destination(endpoints.Address("mpegts-udp", "255.255.255.255", 9))
            good = Destination(endpoints.Address("mpegts-udp", "127.0.0.1",
                                                  target.getsockname()[1]))
            for destination in (refused, good):  # the refused one first in the feed
                await destination.open()
                destination.attach(feed)
            got: list[bytes] = []
            try:
                feed.push(data)
                await support.eventually(lambda: got.extend(datagrams(target)) or
                                         sum(map(len, got)) >= good.bytes.total > 0, 5)
            finally:
                refused.close()
                good.close()
            return sum(map(len, got)), refused, good
    received, refused, good = asyncio.run(run())
    assert received == good.bytes.total > 50 * ts.PACKET_SIZE
    assert refused.bytes.total == 0 and refused.dropped == good.bytes.total // ts.PACKET_SIZE


def test_receiver_counts_frames_of_datagrams_that_are_not_whole_packets(h264_ts):
    # A sender whose datagrams do not end on packet boundaries (here each ends 4 bytes into
    # the packet where a frame starts, one read each; the first starts on a packet as a
    # stream does): the receiver puts the packets back together across reads and counts
    # each frame once (P-10), none lost at the seams.
    frame_packets = [o for o in ts.unit_starts(h264_ts)
                     if ts.pes_start(h264_ts[o : o + ts.PACKET_SIZE])]
    cuts = [0, *(o + 4 for o in frame_packets), len(h264_ts)]
    pieces = [h264_ts[a:b] for a, b in itertools.pairwise(cuts)]
    assert len(frame_packets) == FRAMES and max(map(len, pieces)) < 65000

    async def run() -> Receiver:
        receiver = Receiver(Endpoint("udp://127.0.0.1:1?pkt_size=1316"))
        receiver.address = endpoints.Address("mpegts-udp", "127.0.0.1", 0)
        await receiver.open()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for piece in pieces:
                    before = receiver.bytes.total
                    sender.sendto(piece, ("127.0.0.1", receiver.address.port))
                    await support.eventually(
                        lambda before=before: receiver.bytes.total > before, 5, period=0.001)
        finally:
            receiver.close()
        return receiver
    receiver = asyncio.run(run())
    assert receiver.bytes.total == len(h264_ts) and receiver.frames.total == FRAMES


def datagrams(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(65536))
        except BlockingIOError:
            return got
