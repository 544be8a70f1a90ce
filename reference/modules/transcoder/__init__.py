"""The transcoder module: `transcode` (video) and `audio-transcode` (module.yaml beside this)."""
