"""tools/mutate.py (mutation testing, not run in CI): its list of modules still matches the checkout, it
makes the mutants it documents, and it never writes outside its own copy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


mutate = _tool()

SOURCE = '''"""A docstring is never mutated."""
import logging
log = logging.getLogger("x")
LIMITS = ("a", "b c")


def f(count: int = 2) -> bool:
    """Nor this one."""
    log.info("not this %d", count + 1)
    if count < 3 and not count:
        raise ValueError(f"{count + 1} is wrong")
    return max(count * 2, 0) > 1
'''


def test_the_documented_mutations_and_nothing_in_docstrings_annotations_logs_or_f_strings() -> None:
    made = {(m.line, m.key) for m in mutate.mutants_of("m.py", SOURCE)}
    assert made == {
        (4, "drop `'a'`"), (4, "drop `'b c'`"), (4, "`\"a\"` -> `'XXaXX'`"),  # "b c" holds a space: prose
        (7, "`2` -> `3`"), (7, "`2` -> `1`"), (7, "`2` -> `4`"),
        (10, "`<` -> `<=`"), (10, "`3` -> `4`"), (10, "`3` -> `2`"), (10, "`3` -> `6`"), (10, "`and` -> `or`"),
        (10, "drop `not`"), (10, "negate condition"),
        (11, "`raise` -> `pass`"),
        (12, "`max` -> `min`"), (12, "`*` -> `/`"), (12, "`2` -> `3`"), (12, "`2` -> `1`"), (12, "`2` -> `4`"),
        (12, "`0` -> `1`"),
        (12, "`0` -> `-1`"), (12, "`>` -> `>=`"), (12, "`1` -> `2`"), (12, "`1` -> `0`"),
    }
    for mutant in mutate.mutants_of("m.py", SOURCE):
        compile(mutant.apply(SOURCE), "m.py", "exec")


EDGES = """\
FACTOR = 1.1
def g(items: list[int], ready: bool, done: bool) -> int:
    if ready and done:
        return items[0] + items[1]
    return items[-1] if len(items) <= 3 else items[2]
"""


def test_edges_twice_a_number_half_a_float_the_other_end_of_a_list_and_no_program_twice() -> None:
    made = {(m.line, m.key): m.apply(EDGES).splitlines()[m.line - 1].strip()
            for m in mutate.mutants_of("m.py", EDGES)}
    assert {key for key in made if key[0] == 1} == {
        (1, "`1.1` -> `2.1`"), (1, "`1.1` -> `0.1`"), (1, "`1.1` -> `2.2`"), (1, "`1.1` -> `0.55`")}
    assert made[(3, "`and` -> `or`")] == "if ready or done:"
    assert made[(5, "`<=` -> `<`")] == "return items[-1] if len(items) < 3 else items[2]"
    assert made[(4, "index `1` -> `-1`")] == "return items[0] + items[-1]"
    assert made[(5, "index `2` -> `-1`")] == "return items[-1] if len(items) <= 3 else items[-1]"
    assert made[(5, "index `-1` -> `0`")] == "return items[0] if len(items) <= 3 else items[2]"
    # `items[0]` to `items[-1]` is `0` to `-1`, and `-1` to `-0` is `items[0]`: each program is made once
    assert (4, "`0` -> `-1`") in made and (4, "index `0` -> `-1`") not in made
    assert (5, "`1` -> `0`") not in made
    assert made[(4, "`1` -> `2`")] == "return items[0] + items[2]"  # twice 1 is 1 + 1: one mutant
    assert not [key for key in made if key[1].endswith("#2")]


def test_every_listed_module_and_its_focused_tests_exist() -> None:
    targets, equivalents = mutate.load_config()
    assert {t.name for t in targets} >= {
        "bot/quotas/policy.py", "bot/quotas/windows.py", "bot/requests.py", "bot/schedule.py",
        "bot/provider/models.py", "bot/pricing.py", "bot/jobs/states.py", "bot/db/sql_quotas.py",
        "bot/quotas/charging.py", "bot/admission.py", "bot/ui/intake.py::admit"}
    for target in targets:
        assert (ROOT / target.path).is_file(), target.name
        for argument in target.tests:
            if not argument.startswith("-"):
                assert (ROOT / argument.partition("::")[0]).exists(), f"{target.name}: {argument}"
    assert all(e.why.strip() and e.module in {t.path for t in targets} for e in equivalents)


def test_the_tool_never_writes_in_the_checkout(tmp_path: Path) -> None:
    space = mutate.Workspace(tmp_path)
    for escape in (str(ROOT / "bot" / "schedule.py"), "../../bot/schedule.py"):
        with pytest.raises(RuntimeError, match="outside the copy"):
            space.write(escape, "")
    (tmp_path / "main" / "bot").mkdir(parents=True)
    space.write("bot/schedule.py", "X = 1\n")
    assert (tmp_path / "main" / "bot" / "schedule.py").read_text() == "X = 1\n"
