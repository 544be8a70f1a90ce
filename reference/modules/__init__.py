"""The reference media modules: what people deploy, and what other modules are compared to.

Each folder is one module process with its `module.yaml` (run one with
`mediagrid module run reference/modules/NAME`), built on `mediagrid.sdk.media`:

- `sources/`: `rtsp` (a camera pulled over TCP), `testsrc` (a moving, time-coded test
  pattern), `tone` (a sine tone), `file` (plays a file, looping);
- `transcoder/`: `transcode` (video) and `audio-transcode`, settable live (AdjustQuality);
- `recorder/`: `file`, a sink writing fragmented MP4 or MKV that stays playable if killed;
- `display/`: `display`, a window (SDL2 through pygame) with a live MJPEG preview over HTTP.

`wiring` connects them by hand the way the orchestrator does (docs/reference-modules.md).
"""
