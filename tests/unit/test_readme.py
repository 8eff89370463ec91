"""The README's commands are the ones CI runs, so a fresh machine can follow them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv[^\n]+)\n```", (ROOT / "README.md").read_text())


def _run_and_test() -> tuple[str, str]:
    run, test = [c for c in _readme_commands() if not c.endswith("bot demo")]
    return run, test


def test_readme_has_an_install_and_run_and_an_install_and_test_command() -> None:
    run, test = _run_and_test()
    assert run.endswith("python -m bot")
    assert "[dev]" in test
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = _run_and_test()
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_console_script_is_python_dash_m_bot() -> None:
    assert 'vidu-bot = "bot.__main__:main"' in (ROOT / "pyproject.toml").read_text()


def test_readme_shows_the_demo_before_the_set_up_with_its_pictures() -> None:
    readme = (ROOT / "README.md").read_text()
    (demo,) = [c for c in _readme_commands() if c.endswith("python -m bot demo")]
    assert "-c requirements.lock" in demo and "[dev]" in demo and readme.index(demo) < readme.index("## Set up")
    pictures = re.findall(r"\]\((docs/demo-[\w-]+\.png)\)", readme)
    assert pictures and all((ROOT / p).is_file() for p in pictures)
    assert sum((ROOT / p).stat().st_size for p in pictures) < 400_000  # small: crops, scaled, a palette
