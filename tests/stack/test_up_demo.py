"""`mediagrid up` with no arguments runs the built-in demo stack, as the README's first
command: a playable recording within 20 s, its path on a line of its own, the browser
preview, live numbers in `mediagrid status`, and Ctrl-C leaving a playable file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support import ffprobe_json, free_port, wait_until

DEMO_WITHIN = 20.0  # the promise: a playable recording within 20 s


def lines(path: Path, prefix: str) -> list[str]:
    text = path.read_text(errors="replace") if path.exists() else ""
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]


def playable(path: Path) -> bool:
    try:
        probe = ffprobe_json(path, timeout=10)
    except AssertionError:
        return False
    return float(probe["format"].get("duration", 0)) > 1.0


def test_up_with_no_arguments_runs_the_demo_and_ctrl_c_leaves_a_playable_recording(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    address = f"127.0.0.1:{free_port()}"
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        up = subprocess.Popen([sys.executable, "-m", "mediagrid.cli", "up", "--address", address,
                               "--metrics", "127.0.0.1:0"], cwd=tmp_path, stdout=stdout,
                              stderr=stderr, env=env, start_new_session=True)
    try:
        def recording() -> Path | None:
            assert up.poll() is None, err.read_text()
            found = lines(out, "recording: ")
            return Path(found[0]) if found and playable(Path(found[0])) else None
        assert wait_until(lambda: recording() is not None, DEMO_WITHIN, period=0.5), \
            f"no playable recording within {DEMO_WITHIN:g} s:\n{err.read_text()}"
        video = recording()
        assert video is not None and video.parent == tmp_path / "mediagrid-demo"
        recordings = lines(out, "recording: ")
        # the picture and the tone, both in MP4 as docs/stacks.md says
        assert sorted(Path(r).name for r in recordings) == ["demo-tone.mp4", "demo.mp4"]
        tone = next(Path(r) for r in recordings if r.endswith("demo-tone.mp4"))
        with urllib.request.urlopen(lines(out, "preview: ")[0], timeout=10) as page:
            assert page.status == 200
        metrics = urllib.request.urlopen(lines(out, "metrics: ")[0], timeout=10).read()
        assert b'mediagrid_flow_state{flow="demo-record",state=' in metrics

        def live() -> dict[str, float]:
            status = subprocess.run([sys.executable, "-m", "mediagrid.cli", "status", "--json",
                                     "--address", address], capture_output=True, text=True,
                                    timeout=30)
            flows = json.loads(status.stdout)["flows"]
            return {f["id"]: f.get("metrics", {}).get("fps", 0) for f in flows
                    if f["status"]["state"] == "FLOW_STATE_ACTIVE"}
        assert wait_until(lambda: all(live().get(f, 0) > 0 for f in
                                      ("demo-record", "demo-display", "demo-tone")), 30, 1.0)
        grown = video.stat().st_size
        assert wait_until(lambda: video.stat().st_size > grown, 10)  # it keeps growing
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(60)
    assert code == 0, err.read_text()
    probe = ffprobe_json(video)
    stream = probe["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 640, 360)
    assert float(probe["format"]["duration"]) > 1.0
    probe = ffprobe_json(tone, "-count_frames")
    stream = probe["streams"][0]
    assert (stream["codec_type"], stream["codec_name"]) == ("audio", "aac")
    assert int(stream["nb_read_frames"]) > 40 and float(probe["format"]["duration"]) > 1.0
