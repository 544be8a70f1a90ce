"""`mediagrid camera`: prints the URL, serves until Ctrl-C (exit 0); bad flags exit 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from mediagrid.simulator.camera.process import CameraProcessError
from tests.camera import clients

CAMERA = [sys.executable, "-m", "mediagrid.cli", "camera"]


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--size", "1280"], "--size"),
        (["--fps", "fast"], "--fps"),
        (["--fault", "slw"], "--fault"),
        (["--fault", "slow"], "slow=SECONDS"),
        (["--user", "admin"], "--password"),
        (["--port", "99999"], "--port"),
        (["--path", "a b"], "camera path"),
        (["--host", "999.1.1.1"], "--host"),
        (["--transports", "tcp,sctp"], "--transports"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(flags, named):
    result = subprocess.run([*CAMERA, *flags], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert named in result.stderr


def test_a_missing_ffmpeg_setting_exits_2_naming_it_without_a_traceback(free_port: int) -> None:
    env = {**os.environ, "MEDIAGRID_FFMPEG": "/nonexistent/ffmpeg"}
    result = subprocess.run([*CAMERA, "--port", str(free_port)], capture_output=True, text=True,
                            timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "MEDIAGRID_FFMPEG" in result.stderr and "Traceback" not in result.stderr


def test_prints_the_url_and_stops_on_ctrl_c_without_a_traceback(free_port):
    process = subprocess.Popen([*CAMERA, "--port", str(free_port), "--size", "320x240"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        url = f"rtsp://127.0.0.1:{free_port}/camera"
        assert url in lines[1]
        assert clients.options_round_trip(free_port)[1].startswith("RTSP/1.0 200")
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()  # stdin is /dev/null: no control
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_control_channel_reports_bad_commands(fake_camera):
    camera = fake_camera()
    assert camera.command("status")["listening"] is True
    for line in ("inject nonsense", "frobnicate"):
        with pytest.raises(CameraProcessError, match="refused"):
            camera.command(line)
    assert camera.command("help")["help"].startswith("inject")


def test_an_ffmpeg_that_will_not_start_gets_503_and_one_clear_line(fake_camera):
    camera = fake_camera(video_filters=["nosuchfilter"])
    result = clients.probe(camera.url)
    assert result.returncode != 0
    assert "503" in result.stderr
    assert "No such filter: 'nosuchfilter'" in camera.stderr()
    assert "Traceback" not in camera.stderr()
    assert camera.command("status")["listening"] is True  # still serving
