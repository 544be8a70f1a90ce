"""module.yaml checks that follow contract rules (C-8, C-12..C-15): what is accepted as well
as what is refused (the refusals each have a folder in fixtures/invalid-modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediagrid import codecs
from mediagrid.manifest import ManifestError, load_manifest, schema
from mediagrid.manifest.checks import CONTRACT_ENV
from mediagrid.v1 import common_pb2
from tests.support import ROOT

HEAD = 'id: m\ncommand: ["{python}", "-m", "m"]\n'


def load(tmp_path: Path, body: str):  # type: ignore[no-untyped-def]
    (tmp_path / "module.yaml").write_text(HEAD + body)
    return load_manifest(tmp_path)


def messages(tmp_path: Path, body: str) -> str:
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, body)
    return str(caught.value)


def test_c14_the_schema_names_exactly_the_contracts_codecs() -> None:
    assert schema()["$defs"]["codecs"]["items"]["enum"] == sorted(codecs.CODEC_MEDIA)
    assert codecs.MPEGTS_CODECS < set(codecs.CODEC_MEDIA)


def test_c14_a_codec_mpegts_cannot_carry_is_fine_on_a_local_only_type(tmp_path: Path) -> None:
    manifest = load(tmp_path, """entity_types:
  - {type: raw, kind: sink, media_types: [video], protocols: [file], codecs: [rawvideo, vp8]}
  - {type: pcm, kind: protocol, media_types: [audio], protocols: [sip], codecs: [pcm_mulaw]}
""")
    assert [t.codecs for t in manifest.entity_types] == [("rawvideo", "vp8"), ("pcm_mulaw",)]


def test_c14_a_converter_output_is_checked_against_its_own_transports(tmp_path: Path) -> None:
    text = messages(tmp_path, """entity_types:
  - type: tc
    kind: converter
    media_types: [video]
    protocols: [file]
    codecs: [vp8]
    output: {protocols: [srt], codecs: [vp9]}
""")
    assert 'entity_types[0].output.codecs[0]: "vp9" cannot travel over srt' in text
    assert "entity_types[0].codecs" not in text  # the input side takes files: vp8 is fine


def test_c13_a_converter_may_spell_out_its_own_media_type(tmp_path: Path) -> None:
    manifest = load(tmp_path, """entity_types:
  - {type: tc, kind: converter, media_types: [audio], output: {media_types: [audio]}}
""")
    assert manifest.entity_types[0].output.media_types == ("audio",)


@pytest.mark.parametrize("name", CONTRACT_ENV)
def test_c15_every_contract_variable_is_refused_in_env(tmp_path: Path, name: str) -> None:
    text = messages(tmp_path, f'env: {{{name}: "x"}}\n')
    assert f"env.{name}: {name} is set by the orchestrator (contract §2.1)" in text


def test_c15_other_mediagrid_names_belong_to_the_module(tmp_path: Path) -> None:
    manifest = load(tmp_path, 'env: {MEDIAGRID_FFMPEG: /usr/bin/ffmpeg, LOG_LEVEL: debug}\n')
    assert dict(manifest.env) == {"MEDIAGRID_FFMPEG": "/usr/bin/ffmpeg", "LOG_LEVEL": "debug"}


def test_c8_config_schema_is_loaded_with_the_module(tmp_path: Path) -> None:
    manifest = load_manifest(ROOT / "fixtures" / "modules" / "full")
    assert manifest.configurable is True
    assert manifest.config_schema is not None
    assert manifest.config_schema["properties"]["log_level"]["default"] == "info"


@pytest.mark.parametrize("body", [
    "entity_types:\n  - type: t\n    kind: source\n    media_types: [video]\n"
    "    config: {type: object, properties: {n: {type: [string, 'null'], enum: ['1', '2']}}}\n",
    "configurable: true\nconfig_schema: {patternProperties: {'^x_': {pattern: '^[0-9]+$'}}}\n",
])
def test_c12_schemas_that_admit_strings_pass(tmp_path: Path, body: str) -> None:
    load(tmp_path, body)


def test_c12_every_way_a_schema_refuses_strings_is_named(tmp_path: Path) -> None:
    text = messages(tmp_path, """configurable: true
config_schema:
  type: array
  properties:
    flag: {type: boolean}
    mode: {enum: [1, 2]}
  additionalProperties: {type: number}
""")
    assert 'config_schema.type: "array" can never match: a config is a mapping' in text
    assert 'config_schema.properties.flag.type: "boolean" can never match' in text
    assert 'enum: ["true", "false"]' in text
    assert "config_schema.properties.mode.enum: 1 is not text" in text
    assert 'config_schema.additionalProperties.type: "number" can never match' in text


def test_c12_pattern_properties_are_checked_like_properties(tmp_path: Path) -> None:
    text = messages(tmp_path, """configurable: true
config_schema:
  type: object
  patternProperties:
    "^retries_": {type: integer}
""")
    assert 'config_schema.patternProperties.^retries_.type: "integer" can never match' in text


def test_c13_a_converter_output_that_leaves_out_a_media_type_is_refused(
    tmp_path: Path,
) -> None:
    text = messages(tmp_path, """entity_types:
  - {type: tc, kind: converter, media_types: [audio, video], output: {media_types: [video]}}
""")
    assert "entity_types[0].output.media_types: a converter's output carries its input's" in text


def test_c16_codecs_are_split_by_media_type(tmp_path: Path) -> None:
    info = load(tmp_path, """entity_types:
  - {type: av, kind: sink, media_types: [audio, video], codecs: [aac, h264, opus, hevc]}
""").entity_type_infos()[0]
    by_media = {c.media_type: list(c.supported_codecs) for c in info.capabilities}
    assert by_media == {common_pb2.MEDIA_TYPE_AUDIO: ["aac", "opus"],
                        common_pb2.MEDIA_TYPE_VIDEO: ["h264", "hevc"]}
