"""Record and display a camera with the reference modules, wired by hand.

Start a camera and the four modules first (each in its own terminal, or with `&`):

    mediagrid camera --port 8554
    mediagrid module run reference/modules/sources    --port 50061
    mediagrid module run reference/modules/transcoder --port 50062
    mediagrid module run reference/modules/recorder   --port 50063
    mediagrid module run reference/modules/display    --port 50064

then run this script: the camera is pulled, scaled to 640x360, recorded to a file and shown
in a window (and in a browser: it prints the preview URL). Ctrl-C stops the flow and cleans up.
See docs/reference-modules.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mediagrid.reference.modules.wiring import Flow, ModuleClient

STATE = {0: "UNSPECIFIED", 1: "INITIALIZING", 2: "ACTIVE", 3: "STOPPED", 4: "ERROR"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--camera", default="rtsp://127.0.0.1:8554/camera")
    parser.add_argument("--file", default="recordings/camera.mp4", help="the recording")
    for name, port in (("sources", 50061), ("transcoder", 50062), ("recorder", 50063),
                       ("display", 50064)):
        parser.add_argument(f"--{name}", default=f"127.0.0.1:{port}", metavar="HOST:PORT")
    args = parser.parse_args()
    sources, transcoder = ModuleClient(args.sources), ModuleClient(args.transcoder)
    recorder, display = ModuleClient(args.recorder), ModuleClient(args.display)

    run = f"camera-{int(time.time())}"  # ids of this run: flow ids are never reused (P-8)
    created = []
    flow = Flow(run)
    try:
        camera = sources.create("rtsp", {"url": args.camera})
        created.append(camera)
        scaled = transcoder.create("transcode", {"size": "640x360", "bitrate": "800k"})
        created.append(scaled)
        recording = recorder.create("file", {"path": str(Path(args.file).resolve())})
        created.append(recording)
        window = display.create("display", {"title": "camera"})
        created.append(window)
        flow.connect(f"{run}-in", camera, scaled)
        flow.connect(f"{run}-file", scaled, recording)      # one encoder feeds both
        flow.connect(f"{run}-display", scaled, window)
        flow.start()
        print(f"recording to {Path(args.file).resolve()}")
        print(f"preview: {window.metrics()['preview_url']}  (open it in a browser)")
        while True:
            time.sleep(2)
            shown, written = display.flow(run), recorder.flow(run)
            print(f"display {STATE[shown.status.state]} {shown.metrics.fps:.0f} fps, latency"
                  f" {shown.status.latency_ms} ms | recorder {STATE[written.status.state]}"
                  f" {written.metrics.bytes_written // 1024} KiB"
                  f" {written.status.error_message}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:  # destroying the entities stops the flow and removes its connections
        for entity in reversed(created):
            entity.destroy()
        print(f"stopped; the recording is {Path(args.file).resolve()}")

if __name__ == "__main__":
    main()
