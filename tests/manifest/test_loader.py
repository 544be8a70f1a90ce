"""load_manifest(): durations, placeholders, paths, proto conversion, warnings, problem shape."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mediagrid.manifest import (
    ManifestError,
    Problem,
    format_duration,
    load_manifest,
    parse_duration,
)
from mediagrid.v1 import common_pb2


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "module.yaml").write_text(text)
    return folder / "module.yaml"


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5), ("5s", 5.0), ("1m", 60.0), ("1h", 3600.0), ("1m30s", 90.0),
    ("1.5s", 1.5), ("0ms", 0.0), (2, 2.0), (0.25, 0.25), ("3", 3.0), ("2h1m0.5s", 7260.5),
])
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "5 s", "-1s", "1d", "ms", "", "1.s", -3, True, "s5"])
def test_bad_durations_are_rejected_with_a_hint(text: object) -> None:
    with pytest.raises(ValueError, match='write it like "500ms" or "2s"'):
        parse_duration(text)  # type: ignore[arg-type]


def test_format_duration_round_trips() -> None:
    for seconds in (0.05, 0.5, 1.0, 30.0, 90.0):
        assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
    assert format_duration(0.05) == "50ms" and format_duration(30) == "30s"


def test_placeholders_and_relative_program(tmp_path: Path) -> None:
    folder = tmp_path / "mod"
    write(folder, 'id: m\ncommand: ["{python}", "-m", "x", "--dir={module_dir}/data"]\n')
    manifest = load_manifest(folder)
    assert manifest.resolved_command() == [sys.executable, "-m", "x", f"--dir={folder}/data"]
    assert manifest.resolved_command(python="/opt/py")[0] == "/opt/py"
    assert manifest.cwd == folder and manifest.path == folder / "module.yaml"
    write(folder, 'id: m\ncommand: ["bin/run", "arg"]\nworking_dir: work\n')
    manifest = load_manifest(folder / "module.yaml")
    assert manifest.resolved_command() == [str(folder / "bin" / "run"), "arg"]
    assert manifest.cwd == folder / "work"


def test_missing_program_is_a_warning_not_an_error(tmp_path: Path) -> None:
    write(tmp_path, 'id: m\ncommand: ["no-such-program-xyz"]\n')
    manifest = load_manifest(tmp_path)
    [warning] = manifest.warnings
    assert warning.severity == "warning" and warning.field_path == "command[0]"
    assert "not on PATH" in warning.message
    (tmp_path / "no-such-program-xyz").write_text("#!/bin/sh\n")
    [warning] = load_manifest(tmp_path).warnings
    assert warning.fix == 'a file of that name is beside module.yaml: write "./no-such-program-xyz"'
    write(tmp_path, 'id: m\ncommand: ["./no-such-program-xyz"]\n')
    [warning] = load_manifest(tmp_path).warnings
    assert "not an executable file" in warning.message
    os.chmod(tmp_path / "no-such-program-xyz", 0o755)
    assert load_manifest(tmp_path).warnings == ()


def test_all_errors_are_reported_at_once_with_lines(tmp_path: Path) -> None:
    write(tmp_path, "\n".join([
        "id: Bad Id",
        "command: run me",
        "supervision:",
        "  health_period: fast",
        "  restart_policy: sometimes",
        "entity_types:",
        "  - type: t",
        "    kind: converter",
        "    media_types: [video]",
        "",
    ]))
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    fields = [(p.field_path, p.line) for p in caught.value.problems]
    assert fields == [("id", 1), ("command", 2), ("supervision.health_period", 4),
                      ("supervision.restart_policy", 5), ("entity_types[0].output", 7)]


def test_problem_str_reads_file_field_message_fix() -> None:
    problem = Problem("a/module.yaml", "supervision.health_period",
                      '"fast" is not a duration', 'write it like "500ms" or "2s"')
    assert str(problem) == ('a/module.yaml: supervision.health_period: "fast" is not a '
                            'duration; write it like "500ms" or "2s"')
    assert str(ManifestError([problem, problem])).count("\n") == 1


def test_missing_file_and_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"the folder has no module\.yaml; pass a module"):
        load_manifest(tmp_path)
    with pytest.raises(ManifestError, match="no such file or folder"):
        load_manifest(tmp_path / "nope.yaml")


def test_a_folder_of_modules_names_them_and_the_glob_that_finds_them(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write(tmp_path / "mods" / name, "id: x\ncommand: [x]\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    [problem] = caught.value.problems
    assert f"folders below it do ({tmp_path / 'mods' / 'a'}, {tmp_path / 'mods' / 'b'})" \
        in problem.message
    assert f"e.g. {tmp_path}/*/*/ ," in problem.fix


def test_a_binary_file_is_not_utf8_text(tmp_path: Path) -> None:
    (tmp_path / "module.yaml").write_bytes(b"id: x\n\xff\xfe\x00")
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    [problem] = caught.value.problems
    assert problem.message == "not UTF-8 text (byte 0xff at offset 6)"
    assert "save it as UTF-8" in problem.fix


def test_c16_entity_type_infos_carry_capabilities_per_media_type(tmp_path: Path) -> None:
    """Contract §6.1: one capability set per media type, each with that media type's codecs."""
    write(tmp_path, """
id: m
command: ["{python}", "-m", "m"]
entity_types:
  - type: cam
    kind: source
    description: A camera.
    media_types: [video, audio]
    protocols: [rtsp]
    codecs: [h264, aac]
    properties: {max_width: "1920"}
  - type: tc
    kind: converter
    media_types: [video]
    protocols: [mpegts-udp]
    codecs: [h264, mpeg2video]
    output: {codecs: [hevc]}
""")
    manifest = load_manifest(tmp_path)
    cam, tc = manifest.entity_type_infos()
    assert cam.type == "cam" and cam.kind == common_pb2.ENTITY_KIND_SOURCE
    assert cam.description == "A camera."
    assert [c.media_type for c in cam.capabilities] == [common_pb2.MEDIA_TYPE_VIDEO,
                                                        common_pb2.MEDIA_TYPE_AUDIO]
    assert list(cam.capabilities[0].supported_codecs) == ["h264"]
    assert list(cam.capabilities[1].supported_codecs) == ["aac"]
    assert dict(cam.capabilities[0].properties) == {"max_width": "1920"}
    assert list(cam.output_capabilities) == []
    assert tc.kind == common_pb2.ENTITY_KIND_CONVERTER
    [out] = tc.output_capabilities  # left-out fields default to the input side
    assert list(out.supported_codecs) == ["hevc"]
    assert list(out.supported_protocols) == ["mpegts-udp"]
    assert out.media_type == common_pb2.MEDIA_TYPE_VIDEO
    assert manifest.entity_type("tc") is manifest.entity_types[1]
    assert manifest.entity_type("nope") is None


def test_health_timeout_longer_than_period_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, 'id: m\ncommand: ["{python}", "-m", "m"]\n'
                    "supervision: {health_period: 1s, health_timeout: 2s}\n")
    [warning] = load_manifest(tmp_path).warnings
    assert warning.field_path == "supervision.health_timeout"
