"""requirements.lock: every dependency is pinned, the pins satisfy pyproject.toml, and this environment was
installed from it (the README's commands and .ci/run pass `-c requirements.lock`), so CI tests what the Docker
image and an operator's machine get."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[canonicalize_name(name)] = version.strip()
    return locked


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras] if not r.startswith("vidu-bot")]


def test_every_declared_dependency_is_pinned_within_what_pyproject_allows() -> None:
    locked = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements.lock: run python tools/lock.py"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside pyproject's {requirement}")


def test_this_environment_was_installed_from_the_lock() -> None:
    drift = {}
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-only package (pins are made on Linux)
        if installed != version:
            drift[name] = (version, installed)
    assert drift == {}, "installed versions differ from requirements.lock (locked, installed): install with -c"
