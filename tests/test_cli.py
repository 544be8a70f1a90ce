"""The mediagrid command's shared behaviour: help, exit codes, errors with the right usage."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mediagrid import cli


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediagrid.cli", *args],
                          capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_with_examples() -> None:
    done = _run("--help")
    assert done.returncode == 0
    for command in ("validate", "module", "camera"):
        assert command in done.stdout
    assert "examples:" in done.stdout and "exit codes:" in done.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    done = _run()
    assert done.returncode == cli.EXIT_INVALID
    assert "usage: mediagrid" in done.stdout


@pytest.mark.parametrize(("args", "usage"), [
    (("camera", "--bogus"), "usage: mediagrid camera"),
    (("module", "run", "examples/python/hello", "--bogus"), "usage: mediagrid module run"),
    (("--bogus",), "usage: mediagrid [-h]"),
])
def test_an_unknown_option_names_it_with_the_usage_of_its_command(
    args: tuple[str, ...], usage: str
) -> None:
    done = _run(*args)
    assert done.returncode == cli.EXIT_INVALID
    assert done.stderr.startswith(usage), done.stderr
    assert "unrecognized arguments: --bogus" in done.stderr
