"""The package graph (ARCHITECTURE.md "Packages and their rooms"): no import cycle between packages, the
provider and media packages are leaves, and only the Discord side imports discord.

Every import counts: module level, inside functions, and type-only ones under ``TYPE_CHECKING`` (a type
is a dependency too; a cycle through annotations makes the code just as hard to move). Nodes are the
sub-packages of ``bot`` (``bot.jobs``, ``bot.ui`` …), its top-level modules (``bot.app``, ``bot.pricing``
…) and ``cogs``. The root ``bot/__init__.py`` holds only the version and imports nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "cogs")
LEAVES = ("bot.provider", "bot.media")
# Who may speak Discord (ruff's TID251 says the same for the linter; this test keeps the two honest).
DISCORD_SIDE = ("cogs", "bot.ui", "bot.app", "bot.i18n.translator")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def node_of(module: str) -> str:
    """The package a module belongs to, for the graph."""
    parts = module.split(".")
    if parts[0] == "cogs":
        return "cogs"
    if len(parts) >= 2 and (ROOT / "bot" / parts[1]).is_dir():
        return f"bot.{parts[1]}"
    return module


def imports_of(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute, wherever the import statement sits."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def source_files() -> list[Path]:
    return sorted(p for top in SOURCES for p in (ROOT / top).rglob("*.py"))


def package_graph() -> dict[str, set[str]]:
    known = {module_name(p) for p in source_files()}
    graph: dict[str, set[str]] = {}
    for path in source_files():
        source = node_of(module_name(path))
        targets = graph.setdefault(source, set())
        for imported in imports_of(path):
            if imported in known and node_of(imported) != source:
                targets.add(node_of(imported))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_packages() -> None:
    """Guards the test itself: an empty or wrong graph would find no cycle."""
    graph = package_graph()
    assert {"bot.jobs", "bot.ui", "bot.quotas", "bot.provider", "bot.media", "cogs", "bot.app"} <= set(graph)
    assert "bot.jobs" in graph["bot.ui"]
    assert "bot.provider" in graph["bot.jobs"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_provider_and_media_are_leaves() -> None:
    """They import nothing else of ours (the root package's version string aside)."""
    graph = package_graph()
    for leaf in LEAVES:
        assert graph.get(leaf, set()) - {"bot"} == set(), leaf


def test_only_the_discord_side_imports_discord() -> None:
    speakers = set()
    for path in source_files():
        if any(name == "discord" or name.startswith("discord.") for name in imports_of(path)):
            speakers.add(module_name(path))
    allowed = {m for m in speakers if any(m == side or m.startswith(f"{side}.") for side in DISCORD_SIDE)}
    assert speakers - allowed == set()
