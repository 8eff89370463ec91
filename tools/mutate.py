#!/usr/bin/env python3
"""Mutation testing of the core rules: change one operator or constant at a time, run the tests that pin
the module down, count the changes no test notices.

It never writes in the checkout: the tree is copied to a temporary directory (one copy per job), each
mutant is written into the copy and the focused tests run there, with the copy first on PYTHONPATH (the
bot processes that end-to-end tests start inherit it). The copy is deleted at the end.

    python tools/mutate.py --list                     # the modules and their focused tests
    python tools/mutate.py bot/schedule.py            # one module (see tools/mutation.toml)
    python tools/mutate.py bot/ui/intake.py::admit    # one function of a module
    python tools/mutate.py --all --jobs 2             # every listed module, two mutants at a time
    python tools/mutate.py bot/schedule.py --dry-run  # the mutants, without running anything

Mutations (one per mutant): comparisons (`<` to `<=`, `<=` to `<`, `==` to `!=`, `in` to `not in`, ...),
arithmetic (`+` to `-`, `*` to `/`, `//` to `/`, `**` to `*`, ...), `and` to `or` and back, dropping `not`
or a unary minus, numbers n to n+1, n-1 and 2n (a float also to n/2), a constant index to the last (`x[0]`,
`x[1]` to `x[-1]`) and the last to the first (`x[-1]` to `x[0]`), True/False, strings without whitespace
(keys, names, prefixes: not prose or SQL) wrapped in XX...XX, min/max and any/all swapped, one element
dropped from a literal tuple, list, set or dict, a call statement, `raise`, `break` or `continue` replaced
by `pass`, a condition that is not a comparison negated. Never mutated: docstrings, annotations, f-strings
(messages), log calls, asserts, `raise NotImplementedError`, `if TYPE_CHECKING:` blocks, `__all__`. Two
changes that make the same program (`x[0]` to `x[-1]` and `0` to `-1`) are one mutant, named by the first.

A mutant is killed when the focused tests fail (or time out), survives when they pass. The score leaves
out the survivors listed as known equivalents in tools/mutation.toml (each with why no test can tell).
Not part of CI: a module takes from seconds to many minutes. Exit code: 0 when every module's score is at
least --min-score (default 95), 1 otherwise, 2 on a usage or set-up problem.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
import tomllib
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "tools" / "mutation.toml"
# Never copied: git's files, the virtualenv (the copy runs with this interpreter), the bot's data and build
# folders (at the top only), and caches anywhere.
TOP_LEVEL_IGNORED = {".git", ".venv", "venv", "data", "build", "dist"}
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
                                "*.egg-info")


def _ignored(folder: str, names: list[str]) -> set[str]:
    ignored = set(CACHES(folder, names))
    if Path(folder).resolve() == REPO:
        ignored |= TOP_LEVEL_IGNORED & set(names)
    return ignored

COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">"),
           ast.Eq: ("==", "!="), ast.NotEq: ("!=", "=="), ast.In: ("in", "not in"), ast.NotIn: ("not in", "in"),
           ast.Is: ("is", "is not"), ast.IsNot: ("is not", "is")}
BINARY = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.Mult: ("*", "/"), ast.Div: ("/", "*"),
          ast.FloorDiv: ("//", "/"), ast.Mod: ("%", "//"), ast.Pow: ("**", "*"), ast.BitOr: ("|", "&"),
          ast.BitAnd: ("&", "|")}
BOOLEAN = {ast.And: ("and", "or"), ast.Or: ("or", "and")}
SWAPPED_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}
LOGGERS = {"log", "logger", "logging"}


# ------------------------------------------------------------------------------------------ the mutants


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to the repository
    line: int
    start: int  # character offsets in the module's source
    end: int
    replacement: str
    description: str  # e.g. "`<` -> `<=`"
    line_text: str  # the original line, stripped
    occurrence: int = 1  # among mutants with the same line text and description

    @property
    def key(self) -> str:
        """What identifies the mutant in tools/mutation.toml, stable while its line does not change."""
        return self.description + (f" #{self.occurrence}" if self.occurrence > 1 else "")

    def apply(self, source: str) -> str:
        return source[: self.start] + self.replacement + source[self.end :]


class _Source:
    """Positions in one module: ast gives UTF-8 byte columns, tokenize and slicing use characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.tokens = [
            (tok.type, tok.string, self.offset_chars(*tok.start), self.offset_chars(*tok.end))
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        ]

    def offset_chars(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column

    def offset(self, line: int, byte_column: int) -> int:
        raw = self.lines[line - 1].encode("utf-8")[:byte_column]
        return self.starts[line - 1] + len(raw.decode("utf-8"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def line_of(self, offset: int) -> int:
        low, high = 0, len(self.starts) - 1
        while low < high - 1:
            middle = (low + high) // 2
            if self.starts[middle] <= offset:
                low = middle
            else:
                high = middle
        return low + 1

    def find_operator(self, text: str, after: int, before: int) -> tuple[int, int] | None:
        """The operator token(s) spelling `text` ("not in" is two tokens) between two offsets."""
        words = text.split()
        inside = [t for t in self.tokens if t[2] >= after and t[3] <= before and t[0] in (tokenize.OP, tokenize.NAME)]
        for n in range(len(inside) - len(words) + 1):
            if [t[1] for t in inside[n : n + len(words)]] == words:
                return inside[n][2], inside[n + len(words) - 1][3]
        return None


def _is_docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _never_mutated(node: ast.AST) -> bool:
    """f-strings, asserts, `if TYPE_CHECKING:`, `__all__`, log calls, `raise NotImplementedError`."""
    if isinstance(node, ast.JoinedStr | ast.Assert):
        return True
    if isinstance(node, ast.If):
        return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    if isinstance(node, ast.Assign):
        return any(isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets)
    if isinstance(node, ast.Expr):  # a statement that only logs
        return isinstance(node.value, ast.Call) and _never_mutated(node.value)
    if isinstance(node, ast.Call):
        func = node.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in LOGGERS
    return isinstance(node, ast.Raise) and node.exc is not None and "NotImplementedError" in ast.unparse(node.exc)


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes whose subtree is never mutated (see the module's docstring)."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body \
                and _is_docstring(node.body[0]):
            skip(node.body[0])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip(node.returns)
            arguments = node.args
            for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg,
                        arguments.kwarg]:
                if arg is not None:
                    skip(arg.annotation)
        elif isinstance(node, ast.AnnAssign):
            skip(node.annotation)
        elif _never_mutated(node):
            skip(node)
    return skipped


def _function_span(tree: ast.Module, name: str, source: _Source) -> tuple[int, int]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return source.start(node), source.end(node)
    raise SystemExit(f"no function {name!r} in the module")


def _constant_index(node: ast.expr) -> int | None:
    """The integer a subscript's index spells (`x[2]`, `x[-1]`), else None (a name, a slice, a string key)."""
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    constant = node.operand if isinstance(node, ast.UnaryOp) and negative else node
    if isinstance(constant, ast.Constant) and type(constant.value) is int:
        return -constant.value if negative else constant.value
    return None


class _FoldSigns(ast.NodeTransformer):
    """`-0` is `0`, `-(1)` is `-1`: a negative number literal compares as the number."""

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) in (int, float):
            return ast.Constant(-node.operand.value)
        return node


def _program(tree: ast.Module) -> str:
    """What two sources that differ only in spelling share (signs folded, positions left out)."""
    return ast.dump(_FoldSigns().visit(tree))


def mutants_of(module: str, text: str, function: str | None = None) -> list[Mutant]:
    """Every mutant of one module's source (of one function of it, when given), in source order."""
    source = _Source(text)
    tree = ast.parse(text)
    skipped = _skipped_nodes(tree)
    low, high = _function_span(tree, function, source) if function else (0, len(text))
    found: list[tuple[int, int, str, str]] = []  # (start, end, replacement, description)

    def add(start: int, end: int, replacement: str, description: str) -> None:
        if low <= start and end <= high:
            found.append((start, end, replacement, description))

    def add_operator(spelled: str, replacement: str, after: int, before: int) -> None:
        span = source.find_operator(spelled, after, before)
        if span is not None:
            add(*span, replacement, f"`{spelled}` -> `{replacement}`")

    def drop_element(elements: Sequence[ast.AST], ends: Sequence[ast.AST], index: int, empty: str,
                     whole: ast.AST, shown: str) -> None:
        if len(elements) == 1:
            add(source.start(whole), source.end(whole), empty, f"drop `{shown}`")
        elif index < len(elements) - 1:
            add(source.start(elements[index]), source.start(elements[index + 1]), "", f"drop `{shown}`")
        else:
            add(source.end(ends[index - 1]), source.end(ends[index]), "", f"drop `{shown}`")

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for n, op in enumerate(node.ops):
                spelled, replacement = COMPARE[type(op)]
                add_operator(spelled, replacement, source.end(operands[n]), source.start(operands[n + 1]))
        elif isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            spelled, replacement = BINARY[type(node.op)]
            add_operator(spelled, replacement, source.end(node.left), source.start(node.right))
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINARY:
            spelled, replacement = BINARY[type(node.op)]
            add_operator(spelled + "=", replacement + "=", source.end(node.target), source.start(node.value))
        elif isinstance(node, ast.BoolOp):
            spelled, replacement = BOOLEAN[type(node.op)]
            for left, right in zip(node.values, node.values[1:], strict=False):
                add_operator(spelled, replacement, source.end(left), source.start(right))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            add(source.start(node), source.start(node.operand), "",
                "drop `not`" if isinstance(node.op, ast.Not) else "drop unary `-`")
        elif isinstance(node, ast.Constant):
            start, end = source.start(node), source.end(node)
            value = node.value
            if isinstance(value, bool):
                add(start, end, str(not value), f"`{value}` -> `{not value}`")
            elif isinstance(value, int | float):
                # n+1, n-1, twice n, and half of a float (a factor, a margin): the new value names the mutant
                for number in (value + 1, value - 1, value * 2, *([value / 2] if isinstance(value, float) else [])):
                    number = number if isinstance(number, int) else round(number, 9)
                    add(start, end, repr(number), f"`{text[start:end]}` -> `{number!r}`")
            elif isinstance(value, str) and not any(c.isspace() for c in value) and len(value) <= 60:
                add(start, end, repr(f"XX{value}XX"), f"`{text[start:end]}` -> `{f'XX{value}XX'!r}`")
        elif isinstance(node, ast.Subscript) and (index := _constant_index(node.slice)) is not None:
            other = 0 if index == -1 else -1  # the first for the last, the last for any other
            add(source.start(node.slice), source.end(node.slice), str(other), f"index `{index}` -> `{other}`")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in SWAPPED_NAMES:
            add(source.start(node), source.end(node), SWAPPED_NAMES[node.id],
                f"`{node.id}` -> `{SWAPPED_NAMES[node.id]}`")
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and not isinstance(getattr(node, "ctx", None), ast.Store):
            empty = {ast.Tuple: "()", ast.List: "[]", ast.Set: "set()"}[type(node)]
            for n, element in enumerate(node.elts):
                drop_element(node.elts, node.elts, n, empty, node, ast.unparse(element))
        elif isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
            keys = [key for key in node.keys if key is not None]
            for n, key in enumerate(keys):
                drop_element(keys, node.values, n, "{}", node, ast.unparse(key) + ": ...")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
            add(source.start(node), source.end(node), "pass", "statement -> `pass`")
        elif isinstance(node, ast.Raise | ast.Break | ast.Continue):
            add(source.start(node), source.end(node), "pass", f"`{type(node).__name__.lower()}` -> `pass`")
        if isinstance(node, ast.If | ast.IfExp | ast.While) and not isinstance(node.test, ast.Compare | ast.UnaryOp):
            add(source.start(node.test), source.end(node.test), f"not ({ast.unparse(node.test)})", "negate condition")
        elif isinstance(node, ast.comprehension):
            for condition in node.ifs:
                if not isinstance(condition, ast.Compare | ast.UnaryOp):
                    add(source.start(condition), source.end(condition), f"not ({ast.unparse(condition)})",
                        "negate condition")

    programs = {_program(tree)}  # the original's, then each mutant's: a program is tried once
    mutants: list[Mutant] = []
    seen: Counter[tuple[str, str]] = Counter()
    for start, end, replacement, description in sorted(set(found)):
        changed = text[:start] + replacement + text[end:]
        try:
            program = _program(ast.parse(changed))
        except SyntaxError:
            continue
        if program in programs:
            continue  # the original program, or a mutant already made another way (`[0]` -> `[-1]` is `0` -> `-1`)
        programs.add(program)
        line = source.line_of(start)
        line_text = source.lines[line - 1].strip()
        seen[(line_text, description)] += 1
        mutants.append(Mutant(module, line, start, end, replacement, description, line_text,
                              seen[(line_text, description)]))
    return mutants


# ------------------------------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class Target:
    name: str  # "bot/schedule.py" or "bot/ui/intake.py::admit"
    tests: tuple[str, ...]  # pytest arguments, run from the copy's root
    note: str = ""

    @property
    def path(self) -> str:
        return self.name.partition("::")[0]

    @property
    def function(self) -> str | None:
        return self.name.partition("::")[2] or None


@dataclass(frozen=True)
class Equivalent:
    module: str
    line: str
    mutation: str
    why: str
    sqlite_only: bool = False  # equivalent only when the tests run on SQLite alone (no TEST_DATABASE_URL_PG)


def load_config(path: Path = CONFIG) -> tuple[list[Target], list[Equivalent]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    targets = [Target(name, tuple(entry["tests"]), entry.get("note", "")) for name, entry in data["modules"].items()]
    equivalents = [Equivalent(e["module"], e["line"], e["mutation"], e["why"], e.get("sqlite_only", False))
                   for e in data.get("equivalent", [])]
    return targets, equivalents


def in_force(equivalents: Sequence[Equivalent]) -> list[Equivalent]:
    """The equivalents that hold for this run: with PostgreSQL in the tests, not the SQLite-only ones."""
    with_pg = bool(os.environ.get("TEST_DATABASE_URL_PG"))
    return [e for e in equivalents if not (e.sqlite_only and with_pg)]


# ------------------------------------------------------------------------------------------ running


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timeout
    seconds: float
    equivalent: Equivalent | None = None


_running: set[subprocess.Popen[bytes]] = set()  # pytest runs in flight, each in its own process group
_stopping = threading.Event()


def _stop_everything() -> None:
    """On Ctrl-C or SIGTERM: no new mutant starts, and the runs in flight (with their children) are killed."""
    _stopping.set()
    for process in list(_running):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Workspace:
    """A copy of the checkout, `root/main` (with `root/shared` beside it, as CI has it)."""

    root: Path
    main: Path = field(init=False)

    def __post_init__(self) -> None:
        self.main = self.root / "main"

    def populate(self) -> None:
        shutil.copytree(REPO, self.main, ignore=_ignored, symlinks=True)
        shared = REPO.parent / "shared"
        if shared.is_dir():
            (self.root / "shared").symlink_to(shared, target_is_directory=True)

    def write(self, relative: str, text: str) -> None:
        target = (self.main / relative).resolve()
        if not target.is_relative_to(self.root.resolve()) or target.is_relative_to(REPO):
            raise RuntimeError(f"refusing to write {target}: outside the copy")
        target.write_text(text, encoding="utf-8")

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.main), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size and second must never meet a stale .pyc
        return env

    def run(self, args: Sequence[str], timeout: float) -> tuple[int | None, float, str]:
        """(exit code or None on timeout, seconds, output tail) of one pytest run in the copy."""
        shutil.rmtree(self.main / ".hypothesis", ignore_errors=True)  # each run starts from no examples
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", "--no-header",
                   "--hypothesis-seed=0", *args]
        began = time.monotonic()
        process = subprocess.Popen(command, cwd=self.main, env=self.env(), stdout=subprocess.PIPE,  # noqa: S603
                                   stderr=subprocess.STDOUT, start_new_session=True)
        _running.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the run and whatever it started (bot processes)
            process.communicate()
            return None, time.monotonic() - began, ""
        finally:
            _running.discard(process)
        return process.returncode, time.monotonic() - began, output.decode(errors="replace")[-3000:]

    def imports_from_copy(self) -> bool:
        probe = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=self.main,
                               env=self.env(), capture_output=True, text=True, check=False)
        return Path(probe.stdout.strip()).resolve().is_relative_to(self.main.resolve())


def _matching(mutant: Mutant, equivalents: Sequence[Equivalent]) -> Equivalent | None:
    return next((e for e in equivalents if e.module == mutant.module and e.line == mutant.line_text
                 and e.mutation == mutant.key), None)


def run_target(target: Target, equivalents: Sequence[Equivalent], workspaces: Sequence[Workspace],
               *, verbose: bool, lines: Collection[int] = ()) -> list[Outcome]:
    original = (REPO / target.path).read_text(encoding="utf-8")
    mutants = [m for m in mutants_of(target.path, original, target.function) if not lines or m.line in lines]
    for workspace in workspaces:
        workspace.write(target.path, original)
    code, baseline, output = workspaces[0].run(target.tests, timeout=1800)
    if code != 0:
        raise SystemExit(f"{target.name}: the focused tests fail without any mutation (exit {code}); "
                         f"fix that first.\n{output}")
    timeout = max(60.0, 3 * baseline + 10)
    print(f"== {target.name}: {len(mutants)} mutants, focused tests {baseline:.1f} s unmutated", flush=True)
    free = list(workspaces)
    lock = threading.Lock()
    done: list[Outcome] = []

    def one(mutant: Mutant) -> Outcome:
        if _stopping.is_set():
            raise KeyboardInterrupt
        with lock:
            workspace = free.pop()
        try:
            workspace.write(target.path, mutant.apply(original))
            code, seconds, _ = workspace.run(target.tests, timeout=timeout)
            workspace.write(target.path, original)
        finally:
            with lock:
                free.append(workspace)
        if _stopping.is_set():
            raise KeyboardInterrupt
        status = "timeout" if code is None else "survived" if code == 0 else "killed"
        if code == 5:
            raise SystemExit(f"{target.name}: no tests ran ({' '.join(target.tests)})")
        outcome = Outcome(mutant, status, seconds, _matching(mutant, equivalents))
        with lock:
            done.append(outcome)
            if verbose or status == "survived":
                mark = " (known equivalent)" if outcome.equivalent and status == "survived" else ""
                print(f"  [{len(done)}/{len(mutants)}] {status:8} line {mutant.line}: {mutant.key}{mark}  "
                      f"({seconds:.1f} s)", flush=True)
        return outcome

    pool = ThreadPoolExecutor(max_workers=len(workspaces))
    try:
        return list(pool.map(one, mutants))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Score:
    name: str
    tried: int
    killed: int  # timeouts included
    survived: int
    equivalent: int  # survivors listed as known equivalents

    @property
    def percent(self) -> float:
        counted = self.tried - self.equivalent
        return 100.0 if counted == 0 else 100.0 * self.killed / counted


def score(name: str, outcomes: Sequence[Outcome]) -> Score:
    survived = [o for o in outcomes if o.status == "survived"]
    return Score(name, len(outcomes), len(outcomes) - len(survived), len(survived),
                 sum(1 for o in survived if o.equivalent is not None))


def report(target: Target, outcomes: Sequence[Outcome], equivalents: Sequence[Equivalent], *,
           every_line: bool = True) -> Score:
    """Print the survivors and the score; note equivalents listed in error (killed, or no longer made)."""
    result = score(target.name, outcomes)
    text = (REPO / target.path).read_text(encoding="utf-8")
    survivors = [o for o in outcomes if o.status == "survived"]
    for outcome in sorted(survivors, key=lambda o: o.mutant.start):
        mutant = outcome.mutant
        after = mutant.apply(text).splitlines()[mutant.line - 1].strip()
        label = f"known equivalent: {outcome.equivalent.why}" if outcome.equivalent else "SURVIVED"
        print(f"  {label}\n    {target.path}:{mutant.line}: {mutant.key}\n    - {mutant.line_text}\n    + {after}")
    timeouts = sum(1 for o in outcomes if o.status == "timeout")
    listed = [e for e in equivalents if e.module == target.path and _belongs(e, target, text)]
    for entry in listed:
        matched = [o for o in outcomes if o.equivalent is entry]
        if any(o.status != "survived" for o in matched):
            print(f"  note: listed as equivalent but killed (remove it): {entry.line!r} {entry.mutation!r}")
        elif not matched and every_line:
            print(f"  note: listed as equivalent but no longer made (remove it): {entry.line!r} {entry.mutation!r}")
    print(f"  {target.name}: {result.tried} mutants, {result.killed} killed ({timeouts} by timeout), "
          f"{result.survived} survived ({result.equivalent} known equivalents): score {result.percent:.1f} %",
          flush=True)
    return result


def _belongs(entry: Equivalent, target: Target, text: str) -> bool:
    """Whether a module's listed equivalent is in the part of it the target mutates (all, or one function)."""
    if target.function is None:
        return True
    low, high = _function_span(ast.parse(text), target.function, _Source(text))
    return entry.line in (line.strip() for line in text[low:high].splitlines())


def table(scores: Sequence[Score]) -> str:
    rows = ["| module | mutants | killed | survived | known equivalents | score |", "|---|---|---|---|---|---|"]
    rows += [f"| {s.name} | {s.tried} | {s.killed} | {s.survived} | {s.equivalent} | {s.percent:.1f} % |"
             for s in scores]
    return "\n".join(rows)


@contextmanager
def _workspaces(count: int) -> Iterator[list[Workspace]]:
    with tempfile.TemporaryDirectory(prefix="vidu-mutate-") as temp:
        spaces = [Workspace(Path(temp) / f"w{n}") for n in range(count)]
        for space in spaces:
            space.root.mkdir()
            space.populate()
            if not space.imports_from_copy():
                raise SystemExit("the copy's `bot` package is not the one imported: mutants would not be tested")
        yield spaces


def _interrupt(signum: int, frame: object) -> None:
    _stop_everything()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("modules", nargs="*", help="module paths as listed in tools/mutation.toml (--list)")
    parser.add_argument("--all", action="store_true", help="every listed module")
    parser.add_argument("--list", action="store_true", help="list the modules and their focused tests")
    parser.add_argument("--dry-run", action="store_true", help="print the mutants without running tests")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (one copy each; default 1)")
    parser.add_argument("--verbose", "-v", action="store_true", help="a line for every mutant, killed or not")
    parser.add_argument("--json", type=Path, help="write every mutant's outcome to this file")
    parser.add_argument("--min-score", type=float, default=95.0, help="exit 1 below this score (default 95)")
    parser.add_argument("--line", type=int, action="append", default=[],
                        help="only the mutants of this line (repeatable): to check one survivor again")
    args = parser.parse_args(argv)

    targets, equivalents = load_config()
    if args.list:
        for target in targets:
            print(f"{target.name}\n    {' '.join(target.tests)}" + (f"\n    ({target.note})" if target.note else ""))
        return 0
    by_name = {t.name: t for t in targets}
    unknown = [m for m in args.modules if m not in by_name]
    if unknown or not (args.modules or args.all):
        parser.print_usage()
        print(f"unknown module(s): {', '.join(unknown)}; see --list" if unknown else "name a module, or --all")
        return 2
    chosen = targets if args.all else [by_name[m] for m in args.modules]
    if args.dry_run:
        for target in chosen:
            text = (REPO / target.path).read_text(encoding="utf-8")
            for mutant in mutants_of(target.path, text, target.function):
                if args.line and mutant.line not in args.line:
                    continue
                print(f"{target.path}:{mutant.line}: {mutant.key}    | {mutant.line_text}")
        return 0

    scores: list[Score] = []
    records: list[dict[str, object]] = []
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    equivalents = in_force(equivalents)
    try:
        with _workspaces(max(1, args.jobs)) as spaces:
            for target in chosen:
                outcomes = run_target(target, equivalents, spaces, verbose=args.verbose, lines=args.line)
                scores.append(report(target, outcomes, equivalents, every_line=not args.line))
                records += [{"module": target.name, "line": o.mutant.line, "line_text": o.mutant.line_text,
                             "mutation": o.mutant.key, "status": o.status, "seconds": round(o.seconds, 2),
                             "equivalent": o.equivalent.why if o.equivalent else None} for o in outcomes]
    except KeyboardInterrupt:
        _stop_everything()
        print("interrupted: nothing was changed in the checkout; the copy is deleted", file=sys.stderr)
        return 130
    print()
    print(table(scores))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(s.percent >= args.min_score for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
