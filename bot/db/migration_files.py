"""Plain-SQL migration files, `V<n>__<name>.sql`, shared by the stores (each has its own directory)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_ROOT = Path(__file__).parent / "migrations"
_MIGRATION_NAME = re.compile(r"^V(?P<version>[1-9][0-9]*)__(?P<name>[A-Za-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"V{self.version}__{self.name}.sql"


def load_migrations(directory: Path, split: Callable[[str], list[str]]) -> list[Migration]:
    """Every `V<n>__<name>.sql` in `directory`, by version, cut into statements by `split` (a ValueError
    from it is reported with the file's path). Blocking: call in a thread."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path}: migration file names must look like V<number>__<name>.sql")
        version = int(match["version"])
        if version in found:
            raise ValueError(f"{path}: migration version {version} appears twice")
        try:
            statements = split(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        found[version] = Migration(version, match["name"], tuple(statements))
    return [found[v] for v in sorted(found)]
