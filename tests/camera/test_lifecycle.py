"""The camera's ffmpeg runs only while watched (plus a linger), and never outlives it."""

from __future__ import annotations

import signal

from tests.camera import clients
from tests.support import alive, wait_until


def _producer(camera) -> dict:
    return camera.status()["producers"]["camera"]


def test_ffmpeg_starts_on_demand_and_stops_after_the_linger(fake_camera):
    camera = fake_camera(linger=0.5, audio="none")
    assert _producer(camera)["running"] is False  # nobody watched yet
    assert clients.probe(camera.url).returncode == 0
    pid = _producer(camera)["pid"]
    assert pid is not None
    assert wait_until(lambda: not _producer(camera)["running"])
    assert wait_until(lambda: not alive(pid))
    assert clients.probe(camera.url).returncode == 0
    assert _producer(camera)["starts"] == 2


def test_no_ffmpeg_outlives_the_camera(fake_camera):
    camera = fake_camera(always_on=True, audio="none")
    pid = _producer(camera)["pid"]
    assert pid is not None and alive(pid)
    assert camera.stop() == 0  # SIGTERM: a clean stop
    assert not alive(pid)


def test_ffmpeg_dies_with_a_killed_camera(fake_camera):
    camera = fake_camera(always_on=True, audio="none")
    pid = _producer(camera)["pid"]
    camera.process.send_signal(signal.SIGKILL)  # no chance to clean up
    camera.process.wait()
    assert wait_until(lambda: not alive(pid))  # the parent-death signal took it
