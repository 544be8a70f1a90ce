"""The reference stack: orchestrator, ffmpeg-backed media modules, config service."""
