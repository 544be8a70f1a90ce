"""ffmpeg argument lists. The ONLY module that imports ffmpeg-python.

ffmpeg-python is unmaintained (last release 2019) and pulls in `future`, so it stays behind this
small surface of plain types: callers pass `Input`/`Output` and get `list[str]` back, ready for
`FfmpegProcess`. Replacing the library means rewriting this file only.

Options are `{"name": value}` without the leading dash; a value of True (or None) makes a bare
flag (`{"re": True}` -> `-re`); keys keep stream specifiers (`{"c:v": "libx264"}`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ffmpeg

from mediagrid.reference.media.timecode import TimecodeLayout, stamp_expression

OptionValue = str | int | float | bool | None
Options = Mapping[str, OptionValue]


@dataclass(frozen=True)
class Input:
    url: str
    options: Options = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    url: str
    options: Options = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    """One video filter: name, positional args, named args (`Filter("scale", w=640, h=-2)`)."""

    name: str
    args: tuple[OptionValue, ...] = ()
    kwargs: Mapping[str, OptionValue] = field(default_factory=dict)

    def __init__(self, name: str, *args: OptionValue, **kwargs: OptionValue) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", kwargs)


def _kwargs(options: Options) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, value in options.items():
        if key.startswith("-"):
            raise ValueError(f"option {key!r}: write it without the leading dash ({key[1:]!r})")
        if value is False:
            continue
        out[key] = None if value is True or value is None else str(value)
    return out


def _flags(options: Options) -> list[str]:
    args: list[str] = []
    for key, value in _kwargs(options).items():
        args += [f"-{key}"] if value is None else [f"-{key}", value]
    return args


def _input(source: Input):  # -> ffmpeg.nodes.FilterableStream (kept out of the signature)
    return ffmpeg.input(source.url, **_kwargs(source.options))


def _compile(stream, binary: str, global_options: Options) -> list[str]:
    return [binary, *_flags({"hide_banner": True, **global_options}), *stream.get_args()]


def transcode(
    binary: str,
    source: Input,
    sink: Output,
    *,
    video_filters: Sequence[Filter] = (),
    global_options: Options | None = None,
) -> list[str]:
    """One input to one output. With video filters, only the filtered video is mapped."""
    stream = _input(source)
    if video_filters:
        stream = stream.video
        for f in video_filters:
            stream = stream.filter(f.name, *f.args, **_kwargs(f.kwargs))
    out = ffmpeg.output(stream, sink.url, **_kwargs(sink.options))
    return _compile(out, binary, {"y": True, **(global_options or {})})


def timecode_stamp(
    binary: str,
    source: Input,
    sinks: Sequence[Output],
    layout: TimecodeLayout,
    *,
    restore_pts: str = "N/FRAME_RATE/TB",
    global_options: Options | None = None,
) -> list[str]:
    """Stamps the wall-clock time into each frame of `source`'s video and writes it to `sinks`.

    `restore_pts` is the setpts expression applied after stamping: the default gives evenly
    spaced timestamps at the source's frame rate; use "PTS-STARTPTS" to keep the wall-clock
    spacing (for sources without a fixed frame rate). Several sinks get the same frames.
    """
    if not sinks:
        raise ValueError("timecode_stamp needs at least one output")
    video = (
        _input(source).video.filter("format", "yuv420p")
        .filter("settb", "1/1000000").filter("setpts", "time(0)/TB")
    )
    split = video.filter_multi_output("split")
    strip = (
        split.stream(1)
        .filter("crop", layout.width, layout.height, layout.x, layout.y)
        .filter("geq", lum=stamp_expression(layout), cb="128", cr="128")
    )
    stamped = ffmpeg.overlay(split.stream(0), strip, x=layout.x, y=layout.y)
    stamped = stamped.filter("setpts", restore_pts)
    if len(sinks) > 1:
        copies = stamped.filter_multi_output("split")
        outs = [
            ffmpeg.output(copies.stream(i), s.url, **_kwargs(s.options))
            for i, s in enumerate(sinks)
        ]
        return _compile(ffmpeg.merge_outputs(*outs), binary, {"y": True, **(global_options or {})})
    out = ffmpeg.output(stamped, sinks[0].url, **_kwargs(sinks[0].options))
    return _compile(out, binary, {"y": True, **(global_options or {})})


def timecode_reader(
    binary: str,
    source: Input,
    layout: TimecodeLayout,
    *,
    global_options: Options | None = None,
) -> list[str]:
    """Decodes `source` and writes its time-code strip as gray rawvideo frames to stdout."""
    stream = (
        _input(source).video
        .filter("crop", layout.width, layout.height, layout.x, layout.y)
        .filter("format", "gray")
    )
    out = ffmpeg.output(
        stream, "pipe:1", f="rawvideo", pix_fmt="gray", **{"fps_mode": "passthrough"}
    )
    return _compile(out, binary, global_options or {})
