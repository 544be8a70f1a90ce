"""The reference modules' small parts, without processes: a camera password taken out of
ffmpeg's words in every form, the order in which hand wiring starts and stops modules, the
recorder's names for files and segments, and the display's preview serving the newest frame."""

from __future__ import annotations

import asyncio
import io
import urllib.error
import urllib.request
from types import SimpleNamespace
from urllib.parse import quote

import pygame

from mediagrid.reference.modules.display.frames import Frame
from mediagrid.reference.modules.display.preview import Preview
from mediagrid.reference.modules.recorder.module import FileSink, free_name
from mediagrid.reference.modules.sources.rtsp import RtspSource
from mediagrid.reference.modules.wiring import Entity, Flow


def test_a_camera_password_is_taken_out_of_ffmpeg_lines_plain_and_url_encoded():
    password = "p@ss/w:rd 1"  # what ffmpeg prints of the URL is percent-encoded
    camera = SimpleNamespace(config={"url": "rtsp://cam.example:554/live",
                                     "username": "viewer", "password": password})
    url = RtspSource._url_with_credentials(camera)  # type: ignore[arg-type]
    assert url == f"rtsp://viewer:{quote(password, safe='')}@cam.example:554/live"
    line = f"[rtsp @ 0x5] {url}: 401 Unauthorized (password {password})"
    shown = RtspSource.redact(camera, line)  # type: ignore[arg-type]
    assert password not in shown and quote(password, safe="") not in shown
    assert shown.count("***") == 2 and "cam.example:554/live" in shown


def test_p12_hand_wiring_starts_sinks_first_and_stops_sources_first():
    sources, transcoder, recorder, display = (SimpleNamespace(id=n) for n in
                                              ("sources", "transcoder", "recorder", "display"))
    camera, converter = Entity(sources, "camera"), Entity(transcoder, "converter")
    flow = Flow("f1")
    flow.connections += [  # camera -> converter -> recorder, and camera -> display
        SimpleNamespace(id="c1", source=camera, target=converter),
        SimpleNamespace(id="c2", source=converter, target=Entity(recorder, "file")),
        SimpleNamespace(id="c3", source=camera, target=Entity(display, "screen")),
    ]
    order = [(module.id, ids) for module, ids in flow.modules()]
    assert order[0] == ("recorder", ["c2"]) and order[-1] == ("sources", ["c1", "c3"])
    assert [m for m, _ in order].index("transcoder") == 1  # after its sink, before its source
    assert ("transcoder", ["c1", "c2"]) in order  # upstream first: c2 is nearest the sink


def test_recordings_and_segments_never_take_an_existing_name(tmp_path):
    door = tmp_path / "door.mp4"
    assert free_name(str(door)) == str(door)
    door.write_bytes(b"kept")
    (tmp_path / "door.1.mp4").write_bytes(b"kept")
    assert free_name(str(door)) == str(tmp_path / "door.2.mp4")
    pattern = str(tmp_path / "door-%05d.mp4")
    assert FileSink._next_segment(pattern) == 1
    for n in (1, 2, 7):  # a folder holding an earlier recording's segments
        (tmp_path / f"door-{n:05d}.mp4").write_bytes(b"kept")
    assert FileSink._next_segment(pattern) == 8


def solid(rgb: tuple[int, int, int]) -> Frame:
    return Frame(64, 48, bytes(rgb) * 64 * 48)


def colour_of(jpeg: bytes) -> tuple[int, int, int]:
    surface = pygame.image.load(io.BytesIO(jpeg), "frame.jpg")
    return tuple(surface.get_at((32, 24)))[:3]  # type: ignore[return-value]


def test_the_preview_serves_the_newest_frame_and_503_before_the_first():
    def get(url: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                return reply.status, reply.headers["Content-Type"], reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    async def main() -> None:
        preview = Preview("t", "127.0.0.1", 0, fps=50)
        await preview.start()
        frame = preview.url + "frame.jpg"
        try:
            status, _, body = await asyncio.to_thread(get, frame)
            assert status == 503 and b"no frame yet" in body
            for expected in ((250, 10, 10), (10, 10, 250)):  # red, then blue
                preview.put(solid(expected))
                status, kind, jpeg = await asyncio.to_thread(get, frame)
                assert (status, kind) == (200, "image/jpeg")
                got = colour_of(jpeg)
                assert all(abs(a - b) < 40 for a, b in zip(got, expected, strict=True)), got
        finally:
            await preview.close()
    asyncio.run(asyncio.wait_for(main(), 30))
