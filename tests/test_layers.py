"""The layers hold: the core knows nothing of the front ends, only the two stores speak SQL (the
corpus's, ``retrieval/store/``, and the bot's, ``bot/store/``), the product knows nothing of
the tooling (the stand-ins of Slack), and no two modules import each other (directly or
around a circle).

Every import counts, also those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("retrieval", "bot", "standins")
# The commands made of tooling: they alone may import the support package standins.
TOOLING = ("bot.slack.simulate", "bot.bench")


@functools.cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module ``name`` imports: internal ones resolved to modules, others by top name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    known = set(modules())
    return {name: imports(path, name, known) for name, path in modules().items()}


def test_the_core_never_imports_a_front_end():
    offenders = {
        name: sorted(i for i in deps if i.split(".")[0] in ("bot", "slack_bolt", "slack_sdk"))
        for name, deps in graph().items()
        if name.startswith("retrieval")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def is_tooling(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TOOLING)


def test_the_product_never_imports_the_tooling():
    """``bot`` (but ``quotedesk simulate`` and ``quotedesk bench``) and ``retrieval`` never
    import ``standins``; nor does ``standins`` import them (it plays Slack, not the bot)."""
    offenders = {
        name: sorted(d for d in deps if d.split(".")[0] == "standins")
        for name, deps in graph().items()
        if name.split(".")[0] in ("bot", "retrieval") and not is_tooling(name)
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    backwards = {
        name: sorted(d for d in deps if d.split(".")[0] in ("bot", "retrieval"))
        for name, deps in graph().items()
        if name.split(".")[0] == "standins"
    }
    assert {k: v for k, v in backwards.items() if v} == {}


def test_the_cli_starts_without_the_tooling():
    """``quotedesk`` registers ``simulate`` and ``bench`` but loads them only when called."""
    probe = (
        "import sys, bot.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'standins'"
        " or m.startswith(('bot.bench', 'bot.slack.simulate'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_only_the_two_stores_import_sqlalchemy():
    users = sorted(
        name for name, deps in graph().items() if any(d.split(".")[0] == "sqlalchemy" for d in deps)
    )
    stores = ("retrieval.store", "bot.store")
    assert users and all(any(in_package(name, s) for s in stores) for name in users), users
    assert {s for s in stores if any(in_package(name, s) for name in users)} == set(stores)


def test_ranking_needs_neither_database_nor_model():
    for name, deps in graph().items():
        if name.startswith("retrieval.rank"):
            assert not {
                d
                for d in deps
                if d.startswith(
                    (
                        "retrieval.store",
                        "retrieval.embedder",
                        "retrieval.search",
                        "torch",
                        "sentence_transformers",
                        "faiss",
                    )
                )
            }, name


def test_the_slack_front_end_never_reaches_the_fetcher() -> None:
    """Only an operator's command fetches: no module of the Slack front end reaches
    ``retrieval.web``, directly or through the modules it imports."""
    edges = graph()
    reached: dict[str, str] = {}  # module -> the Slack module it was reached from
    stack = [(name, name) for name in edges if name.startswith("bot.slack")]
    while stack:
        name, start = stack.pop()
        if name in reached:
            continue
        reached[name] = start
        stack.extend((dep, start) for dep in edges.get(name, ()) if dep in edges)
    offenders = {n: s for n, s in reached.items() if n.startswith("retrieval.web")}
    assert offenders == {}, f"reached from Slack (module: from): {offenders}"


def test_no_import_cycles() -> None:
    known = modules()
    edges = {name: {d for d in deps if d in known} - {name} for name, deps in graph().items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []
