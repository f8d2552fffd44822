"""The layers hold: the core knows nothing of the front ends, only the store speaks SQL, and no
two modules import each other (directly or around a circle).

Every import counts, also those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("retrieval", "bot")


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


def test_only_the_store_imports_sqlalchemy():
    users = sorted(
        name for name, deps in graph().items() if any(d.split(".")[0] == "sqlalchemy" for d in deps)
    )
    assert users and all(name.startswith("retrieval.store") for name in users), users


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


def test_no_import_cycles():
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
