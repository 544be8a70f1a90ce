"""module.yaml: its published JSON Schema, the loader, discovery, and the `mediagrid validate`
and `mediagrid module run` commands (docs/module-yaml.md).

    from mediagrid.manifest import load_manifest, discover, ManifestError
    manifest = load_manifest("examples/python/hello")      # a folder means folder/module.yaml
    manifest.resolved_command()                             # ["/usr/bin/python3", "module.py"]
    manifest.entity_type_infos()                            # [mediagrid.v1 EntityTypeInfo, ...]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Exported names and the submodule holding each. Loaded on first use, so that importing
# mediagrid.manifest.command for `mediagrid --help` does not import jsonschema and PyYAML.
_EXPORTS = {
    "Discovery": "discovery", "discover": "discovery", "find_manifest_files": "files",
    "scan": "discovery",
    "format_duration": "durations", "parse_duration": "durations",
    "MANIFEST_NAME": "files", "load_manifest": "loader", "manifest_file": "files",
    "BackoffPolicy": "model", "Capabilities": "model", "EntityTypeSpec": "model", "GiveUp": "model",
    "ManifestError": "model", "ModuleManifest": "model", "Problem": "model",
    "Security": "model", "ShutdownLadder": "model",
    "Supervision": "model",
    "schema": "schemas", "schema_text": "schemas",
}
__all__ = [
    "MANIFEST_NAME",
    "BackoffPolicy",
    "Capabilities",
    "Discovery",
    "EntityTypeSpec",
    "GiveUp",
    "ManifestError",
    "ModuleManifest",
    "Problem",
    "Security",
    "ShutdownLadder",
    "Supervision",
    "discover",
    "find_manifest_files",
    "format_duration",
    "load_manifest",
    "manifest_file",
    "parse_duration",
    "scan",
    "schema",
    "schema_text",
]

if TYPE_CHECKING:
    from mediagrid.manifest.discovery import Discovery, discover, scan
    from mediagrid.manifest.durations import format_duration, parse_duration
    from mediagrid.manifest.files import MANIFEST_NAME, find_manifest_files, manifest_file
    from mediagrid.manifest.loader import load_manifest
    from mediagrid.manifest.model import (
        BackoffPolicy,
        Capabilities,
        EntityTypeSpec,
        GiveUp,
        ManifestError,
        ModuleManifest,
        Problem,
        Security,
        ShutdownLadder,
        Supervision,
    )
    from mediagrid.manifest.schemas import schema, schema_text


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mediagrid.manifest' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mediagrid.manifest.{_EXPORTS[name]}"), name)
