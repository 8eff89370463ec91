"""Write requirements.lock: the exact version of every package `pip install -e ".[dev]"` brings today.

The README's commands, .ci/run and the Dockerfile install with `-c requirements.lock` (pip constraints: a
package is installed at the locked version or not at all), so every machine builds the same environment,
and a new release of a dependency reaches it only when someone runs this, tests, and commits the change:

    python tools/lock.py && .venv/bin/pip install -c requirements.lock -e ".[dev]" && .venv/bin/python -m pytest

It installs into a throwaway virtual environment (a few minutes) and never touches .venv. Versions only, no
hashes: pip cannot check hashes beside the editable install of the bot itself.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
HEADER = """\
# Every package the bot and its tests install, at the version CI tested (pip constraints file).
# Used by the README's commands, .ci/run and the Dockerfile: pip install -c requirements.lock ...
# Regenerate with `python tools/lock.py` (README "Updating dependencies"); do not edit by hand.
# Made with Python {python} on {platform}.
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vidu-lock.") as folder:
        venv.create(folder, with_pip=True)
        pip = Path(folder) / ("Scripts" if sys.platform == "win32" else "bin") / "pip"
        install = [str(pip), "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}[dev]"]
        subprocess.run(install, check=True)  # noqa: S603 (our own interpreter and folder)
        freeze = [str(pip), "freeze", "--exclude-editable", "--disable-pip-version-check"]
        frozen = subprocess.run(freeze, check=True, capture_output=True, text=True).stdout  # noqa: S603
    pins = sorted((line for line in frozen.splitlines() if "==" in line), key=str.lower)
    python = ".".join(map(str, sys.version_info[:3]))
    LOCK.write_text(HEADER.format(python=python, platform=sys.platform) + "\n".join(pins) + "\n")
    print(f"{LOCK.name}: {len(pins)} packages pinned")


if __name__ == "__main__":
    main()
