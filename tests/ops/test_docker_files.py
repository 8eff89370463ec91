"""What can be checked of the Docker files without a Docker engine: they parse, and what they name exists."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import COMMANDS, build_parser
from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def only(instruction: str) -> str:
    found = [args for word, args in dockerfile() if word == instruction]
    assert len(found) == 1, f"Dockerfile: expected one {instruction}, found {len(found)}"
    return found[0]


def exec_form(args: str, where: str) -> list[str]:
    try:
        value = json.loads(args)
    except ValueError:
        pytest.fail(f"Dockerfile {where}: not exec form (a JSON list), so signals would go to a shell: {args}")
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), where
    return value


def test_base_image_is_python_311_slim() -> None:
    assert only("FROM") == "python:3.11-slim"


def test_entrypoint_is_exec_form_python_m_bot_and_the_module_runs() -> None:
    entry = exec_form(only("ENTRYPOINT"), "ENTRYPOINT")
    assert entry[:2] == ["python", "-m"]
    module = entry[2]
    assert (ROOT / module.replace(".", "/") / "__main__.py").is_file(), f"{module} has no __main__"
    cmd = exec_form(only("CMD"), "CMD")
    assert cmd[0] in build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    # The image's command line really starts: `--help` through the same module exits 0.
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and b"run" in done.stdout


def test_healthcheck_runs_an_existing_health_command() -> None:
    args = only("HEALTHCHECK")
    options, _, command = args.partition("CMD ")
    assert re.search(r"--interval=\d+s", options) and re.search(r"--timeout=\d+s", options)
    argv = exec_form(command.strip(), "HEALTHCHECK")
    assert argv[:3] == ["python", "-m", "bot"]
    parsed = build_parser().parse_args(argv[3:])
    assert parsed.command in COMMANDS, f"HEALTHCHECK runs `{' '.join(argv)}`, which is not a command"
    # The health command asks the port the image serves /healthz on.
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for w, a in dockerfile() if w == "ENV")))
    assert env["METRICS_PORT"] in only("EXPOSE").split()


def test_runs_as_a_user_that_is_not_root() -> None:
    steps = dockerfile()
    users = [(i, args) for i, (word, args) in enumerate(steps) if word == "USER"]
    assert users, "Dockerfile: no USER, the bot would run as root"
    last_index, user = users[-1]
    assert user.split(":")[0] not in ("root", "0")
    name = user.split(":")[0]
    assert any(word == "RUN" and re.search(rf"useradd\b.*\b{name}\b", args) for word, args in steps[:last_index])
    # Nothing after USER needs root: no later RUN, no later USER switching back.
    assert not [w for w, _ in steps[last_index + 1:] if w == "RUN"]


def test_ffmpeg_and_the_fonts_come_from_pip_as_everywhere_else() -> None:
    runs = " ".join(args for word, args in dockerfile() if word == "RUN")
    assert "apt-get" not in runs, "no system package: pip install brings ffmpeg and the fonts"
    # The bot at the versions CI tested: requirements.lock is copied in and constrains the install.
    assert re.search(r"\bpip install -c requirements\.lock \.", runs), runs
    assert any("requirements.lock" in args.split() for word, args in dockerfile() if word == "COPY")
    dependencies = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    assert "imageio-ffmpeg" in dependencies and "weblate-fonts" in dependencies, dependencies


def ignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    return any(fnmatch.fnmatch(path, p.rstrip("/")) or path.startswith(p) for p in patterns)


def test_copied_sources_exist_and_secrets_stay_out_of_the_build_context() -> None:
    for word, args in dockerfile():
        if word == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
                assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    for private in (".env", ".env.local", ".git/", ".venv/", "data/", "tests/", "bot.db"):
        assert ignored(private), f".dockerignore lets {private} into the image"


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(text: str) -> str:
    """Compose's ${NAME:-default} with nothing set: the defaults."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)


def test_compose_runs_the_bot_after_a_healthy_postgres_with_a_named_volume() -> None:
    doc = compose()
    services, volumes = doc["services"], doc.get("volumes") or {}
    pg, bot = services["postgres"], services["bot"]
    assert pg["image"].startswith("postgres:")
    assert pg["healthcheck"]["test"] and "pg_isready" in " ".join(pg["healthcheck"]["test"])
    for service in (pg, bot):
        for mount in service.get("volumes", []):
            name = mount.split(":")[0]
            assert name in volumes, f"volume {name} is not declared at the top level (named volume)"
    assert any(m.endswith(":/var/lib/postgresql/data") for m in pg["volumes"])
    assert bot["build"] == "."
    assert bot["env_file"] == ".env" or bot["env_file"] == [".env"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_database_url_points_at_the_postgres_service_and_passes_our_loader() -> None:
    doc = compose()
    pg, env = doc["services"]["postgres"]["environment"], doc["services"]["bot"]["environment"]
    url = interpolate(env["DATABASE_URL"])
    settings = load_settings({"DATABASE_URL": url, "METRICS_PORT": env["METRICS_PORT"]}, env_file=None)
    parts = urlsplit(settings.database_url.get())
    assert parts.scheme == "postgresql" and parts.hostname == "postgres"
    assert parts.username == pg["POSTGRES_USER"] and parts.path == "/" + pg["POSTGRES_DB"]
    assert parts.password == interpolate(pg["POSTGRES_PASSWORD"])
    assert any(str(p).endswith(f":{settings.metrics_port}") for p in doc["services"]["bot"]["ports"])
