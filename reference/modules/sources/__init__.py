"""The sources module: `rtsp`, `testsrc`, `tone` and `file` (module.yaml beside this file)."""
