"""`rtsp`: a camera pulled over RTSP, video sent as the camera encodes it, audio re-encoded.

- TCP by default (RTP interleaved on the RTSP connection), with a socket timeout, so a silent
  camera ends the run and is reconnected;
- reconnects with the project's one backoff (at once, then 0.5 s doubling to 30 s; back to
  the start after 60 s of streaming), DEGRADED while it reconnects, with a WARNING event when
  the camera goes away and an INFO event when it streams again;
- credentials come from `username` / `password`, are put into the URL only for ffmpeg, and
  are taken out of every stderr line before it is kept, logged or quoted in an error.
The video and the audio of one camera are two entities (two RTSP sessions), routed apart.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from mediagrid.reference.media import SupervisorEvent, presets
from mediagrid.sdk import FailedPrecondition, Health, InvalidArgument, MediaType, media
from mediagrid.sdk.media import COPY, MediaProcess, Quality
from mediagrid.v1 import common_pb2


def check_url(url: str) -> None:
    """INVALID_ARGUMENT naming what is wrong with a camera URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
        raise InvalidArgument(f"config.url {url!r}: write rtsp://HOST[:PORT]/PATH")
    if "@" in parts.netloc:
        raise InvalidArgument(
            "config.url holds credentials: remove user:password@ from it and set the"
            " username and password keys (they are never logged or read back)"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidArgument(f"config.url {url!r}: the port must be 1-65535") from None


class RtspSource(media.MediaEntity):
    async def create(self) -> None:
        self.check(self.config)

    async def configure(self, config: dict[str, str]) -> None:
        self.check(config)

    def check(self, config: dict[str, str]) -> None:
        check_url(config["url"])
        if config.get("password") and not config.get("username"):
            raise InvalidArgument("config.password is set without config.username: set both")

    @property
    def safe_url(self) -> str:
        """The camera URL as it may be shown: without credentials."""
        return self.config["url"]

    def _url_with_credentials(self) -> str:
        user, password = self.config.get("username", ""), self.config.get("password", "")
        if not user:
            return self.config["url"]
        scheme, rest = self.config["url"].split("://", 1)
        login = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        return f"{scheme}://{login}@{rest}"

    def redact(self, line: str) -> str:
        password = self.config.get("password", "")
        for secret in {password, quote(password, safe="")} - {""}:
            line = line.replace(secret, "***")
        return line

    def default_quality(self) -> Quality:
        if self.media_type is MediaType.AUDIO:
            return Quality(MediaType.AUDIO, self.config["audio_codec"], bitrate=96_000)
        return Quality(MediaType.VIDEO, COPY, bitrate=0)

    def merge_quality(self, base: Quality, profile: common_pb2.QualityProfile) -> Quality:
        if base.codec == COPY and (profile.video_codec or profile.bitrate or profile.framerate
                                   or profile.resolution.width or profile.resolution.height):
            raise FailedPrecondition(
                "an rtsp video entity sends the camera's own stream and cannot change its codec,"
                " size, frame rate or bitrate: put a transcode converter after it"
            )
        return base.merged(profile)

    def ffmpeg_args(self, quality: Quality | None, run: int) -> list[str]:
        assert quality is not None
        timeout_s = int(self.config["timeout_ms"]) / 1000
        options = presets.rtsp_input(timeout_s=timeout_s, transport=self.config["transport"])
        pull = [arg for key, value in options.items() for arg in (f"-{key}", str(value))]
        stream = "0:a:0" if self.media_type is MediaType.AUDIO else "0:v:0"
        encode = ["-map", stream, *quality.encoder_args()]
        return [*pull, "-i", self._url_with_credentials(), *encode, *self.output_args()]

    def on_media_event(self, event: SupervisorEvent, process: MediaProcess) -> None:
        if process.stopping:
            return
        if event.kind in ("exited", "stalled"):
            why = event.detail or f"ffmpeg exit code {event.exit_code}"
            self.report(f"disconnected from camera {self.safe_url} ({why}):"
                        f" {process.describe_failure()}", severity="warning")
        elif event.kind == "restarting":
            self.set_health(Health.DEGRADED,
                            f"reconnecting to camera {self.safe_url} in {event.delay or 0:.1f} s")

    def on_media_moving(self) -> None:
        self.report(f"connected to camera {self.safe_url}: streaming")
