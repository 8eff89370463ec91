"""The README's commands are the ones CI runs, so a fresh machine can follow them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv[^\n]+)\n```", (ROOT / "README.md").read_text())


def test_readme_has_an_install_and_run_and_an_install_and_test_command() -> None:
    run, test = _readme_commands()
    assert run.endswith("python -m bot")
    assert "[dev]" in test
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = _readme_commands()
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_console_script_is_python_dash_m_bot() -> None:
    assert 'vidu-bot = "bot.__main__:main"' in (ROOT / "pyproject.toml").read_text()
