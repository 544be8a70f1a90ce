"""The simulated module's entities: one class serves every declared type, whatever its kind;
what it does on a link depends on the role this module plays there (links.py)."""

from __future__ import annotations

from mediagrid import sdk
from mediagrid.codecs import of_media
from mediagrid.simulator.module import links, media

DEFAULT_CODEC = {sdk.MediaType.VIDEO: "h264", sdk.MediaType.AUDIO: "aac"}


def codec_for(link: sdk.Link) -> str:
    """What the source side sends: the codec asked for, else the first one its type
    produces (a converter: its output's) that the simulator can encode."""
    video = link.media_type is sdk.MediaType.VIDEO
    asked = link.quality.video_codec if video else link.quality.audio_codec
    produced: tuple[str, ...] = ()
    if link.source is not None:
        kind = link.source.entity_type
        produced = tuple(kind.output_codecs or kind.codecs)
    media_name = "video" if video else "audio"
    for codec in (asked, *of_media(produced, media_name)):
        if codec in media.ENCODABLE and (codec in media.VIDEO_ENCODERS) == video:
            return codec
    return DEFAULT_CODEC[link.media_type]


class SimEntity(sdk.Entity):
    """An entity with in-memory state that moves real MPEG-TS on its links."""

    receivers: dict[str, links.Receiver]

    async def create(self) -> None:
        self.receivers = {}

    async def connect(self, link: sdk.Link) -> None:
        if link.role is sdk.Role.TARGET and link.target is self:  # listen now (rule P-4)
            receiver = links.Receiver(link)
            await receiver.open()
            self.receivers[link.id] = receiver

    async def disconnect(self, link: sdk.Link) -> None:
        receiver = self.receivers.pop(link.id, None)
        if receiver is not None:
            await receiver.close()

    async def start(self, link: sdk.Link) -> None:
        if link.role is sdk.Role.SOURCE:
            link.spawn(links.send(link, codec_for(link)))
        elif link.role is sdk.Role.TARGET and link.id in self.receivers:
            link.spawn(self.receivers[link.id].run())
        elif link.role is sdk.Role.LOCAL and link.target is self:  # one task for both ends
            link.spawn(links.local(link, codec_for(link)))

    async def configure(self, config: dict[str, str]) -> None:
        """Any config its type's schema admits applies at once, also while ACTIVE."""

    async def adjust_quality(self, link: sdk.Link, quality: object) -> None:
        """Accepted: the simulated encoder follows the new quality (nothing to restart)."""

    async def destroy(self) -> None:
        for receiver in self.receivers.values():
            await receiver.close()
        self.receivers.clear()
