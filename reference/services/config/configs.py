"""The configurations the service applies: a YAML file naming each module's configuration,

    modules:                 # or `configs:`, as in a stack file
      recorder:
        log_level: debug

read and checked up front, so a mistake is named before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from mediagrid.sdk.limits import ID_PATTERN


class ConfigFileError(ValueError):
    """The file is unreadable or malformed; the message names the file, the place and the fix."""


@dataclass(frozen=True)
class Configs:
    path: Path
    modules: dict[str, dict[str, str]]


def load_configs(path: Path) -> Configs:
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: not YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigFileError(f"{path}: expected a mapping with `modules:` (module id ->"
                              " its configuration)")
    key = "modules" if "modules" in document else "configs"
    section = document.get(key) or {}
    if not isinstance(section, dict):
        raise ConfigFileError(f"{path}: {key}: expected a mapping of module id -> configuration")
    modules: dict[str, dict[str, str]] = {}
    for module_id, config in section.items():
        if not isinstance(module_id, str) or not ID_PATTERN.fullmatch(module_id):
            raise ConfigFileError(f"{path}: {key}: {module_id!r} is not a module id (lowercase"
                                  " letters, digits and '-')")
        if not isinstance(config, dict):
            raise ConfigFileError(f"{path}: {key}.{module_id}: expected a mapping of keys to"
                                  " string values")
        for name, value in config.items():
            if not isinstance(value, str):
                raise ConfigFileError(
                    f"{path}: {key}.{module_id}.{name}: {value!r} is not a string: configs"
                    f" are maps of strings, quote it ({name}: \"{value}\")")
        modules[module_id] = {str(k): v for k, v in config.items()}
    return Configs(path, modules)
