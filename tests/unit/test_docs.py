"""The README and docs/ link to each other correctly, and docs/PERFORMANCE.md speaks of the keys the benchmark
really writes (a renamed key would otherwise leave the figures pointing at nothing)."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.__main__ import FIGURES

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", markdown, flags=re.S), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_in_the_docs_leads_somewhere() -> None:
    broken = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked here
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            if not file.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif anchor and anchor not in _anchors(file.read_text()):
                broken.append(f"{doc.name}: {target} (no such heading)")
    assert not broken, broken


def test_the_readme_links_the_guides_it_moved_detail_to() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in ("docs/PERFORMANCE.md", "docs/TESTING.md", "docs/DESIGN.md"):
        assert f"]({doc}" in readme, doc


def test_the_latest_figures_name_only_keys_the_benchmark_writes() -> None:
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text()
    table = text.split("## Latest figures", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    keys = [re.findall(r"`([a-z0-9_]+)`", row.split("|")[2])[0] for row in rows]
    assert keys, "no rows in the Latest figures table"
    assert not set(keys) - set(FIGURES), set(keys) - set(FIGURES)
    assert len(keys) == len(set(keys)), "a key is listed twice"


def test_every_key_the_benchmark_writes_is_mentioned_in_performance_md() -> None:
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text()
    assert [key for key in FIGURES if f"`{key}`" not in text] == []
