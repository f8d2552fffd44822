"""Importing a module changes nothing: neither ``os.environ`` nor any logger. Settings are read
when asked for (``retrieval/settings.py``, ``bot/slack/config.py``, ``bot/cli/settings.py``);
the model libraries' environment is set when a model is loaded (``retrieval/offline.py``), and
bm25s is quieted when an index is made or loaded."""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval import embedder as embedding
from retrieval import offline, onnx_encoder, onnx_export
from retrieval.errors import ModelNotFoundError
from retrieval.search import bm25s_scores
from tests.helpers import ROOT

PACKAGES = ("retrieval", "bot")
# Scripts, not modules: ``python -m`` runs them, and Alembic runs env.py inside a migration.
SCRIPTS = ("__main__", "env")
OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
# Every variable retrieval.offline.prepare sets: unset in the processes and tests below.
PREPARED = (
    *OFFLINE,
    "TOKENIZERS_PARALLELISM",
    "HF_HUB_DISABLE_PROGRESS_BARS",
    "TRANSFORMERS_VERBOSITY",
)

# Imports ``first`` (ignoring any that fail), notes the environment and every logger, imports
# ``ours``, and prints what changed and which model libraries are loaded.
PROBE = r"""
import importlib, json, logging, os, sys

ours, first = json.loads(sys.argv[1]), json.loads(sys.argv[2])
DEFAULT = [logging.NOTSET, 0, 0, True, False]


def loggers():
    found = {"": logging.getLogger()}
    found.update(
        (name, logger)
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    )
    return {
        name: [log.level, len(log.handlers), len(log.filters), log.propagate, log.disabled]
        for name, log in found.items()
    }


for name in first:
    try:
        importlib.import_module(name)
    except BaseException:
        pass
env, logs = dict(os.environ), loggers()
for name in ours:
    importlib.import_module(name)
env_after, logs_after = dict(os.environ), loggers()
print(json.dumps({
    "environ": sorted(k for k in {*env, *env_after} if env.get(k) != env_after.get(k)),
    "loggers": sorted(n for n, s in logs_after.items() if s != logs.get(n, DEFAULT)),
    "model_libraries": sorted(
        m for m in ("huggingface_hub", "transformers", "sentence_transformers") if m in sys.modules
    ),
}))
"""


def our_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] in SCRIPTS:
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imported_by(path: Path) -> set[str]:
    """The modules ``path`` imports when it is imported (not in functions, nor for type
    checking), and for ``from a import b`` also ``a.b`` (a submodule or not)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                visit(handler.body)

    visit(ast.parse(path.read_text(), str(path)).body)
    return found


def other_libraries() -> list[str]:
    """What the modules of ``retrieval`` and ``bot`` import from elsewhere when imported."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= imported_by(path)
    return sorted(name for name in found if name.split(".")[0] not in (*PACKAGES, "__future__"))


def probe(first: list[str]) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k not in PREPARED}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(our_modules()), json.dumps(first)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.slow  # another Python process, importing every module
def test_importing_every_module_changes_neither_the_environment_nor_a_logger():
    """Every module of ``retrieval`` and ``bot``, imported in a fresh process after the other
    libraries they import (whose own doing at import, such as bm25s setting its logger to
    DEBUG, is not theirs): nothing in ``os.environ`` and no logger differs."""
    changed = probe(other_libraries())
    assert (changed["environ"], changed["loggers"]) == ([], [])
    # The loaders set the hub offline before a model library is imported: none is yet.
    assert changed["model_libraries"] == []


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model libraries' variables unset (restored after the test)."""
    for name in PREPARED:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("unset")
def test_loading_a_model_sets_the_hub_offline_first(tmp_path: Path):
    with pytest.raises(ModelNotFoundError, match="no sentence-transformers model"):
        embedding.load_encoder(tmp_path / "none", backend="onnx", models=tmp_path)
    assert [os.environ.get(name) for name in OFFLINE] == ["1", "1"]
    assert os.environ["TOKENIZERS_PARALLELISM"] == "false"


class Prepared(Exception):
    """Raised by a stand-in of :func:`retrieval.offline.prepare`: the loader got that far."""


@pytest.mark.usefixtures("unset")
def test_every_loader_prepares_before_it_imports_a_model_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    from bot.bench import run

    def prepare() -> None:
        raise Prepared

    monkeypatch.setattr(offline, "prepare", prepare)
    folder = embedding.packaged_model_path()
    loaders = [
        lambda: embedding.load_encoder(backend="torch"),
        lambda: embedding.TorchEncoder(folder),
        lambda: onnx_encoder.load(folder, tmp_path, "onnx", name="packaged/onnx"),
        lambda: onnx_export.export(folder, tmp_path / "m.onnx", precision="fp32", check={}),
        lambda: run.plain_encode(["a text"]),
    ]
    for load in loaders:
        with pytest.raises(Prepared):
            load()


def test_bm25s_is_quieted_when_an_index_is_made():
    """bm25s's records below ERROR are dropped once an index exists; its level is its own."""
    bm25s_log = logging.getLogger("bm25s")
    level = bm25s_log.level
    scores = bm25s_scores.TermScores.from_counts(
        [(np.array([0]), np.array([0]), np.array([1.0]))], np.array([1]), {"word": 0}
    )
    assert scores.rows == 1 and bm25s_log.level == level
    record = bm25s_log.makeRecord("bm25s", logging.INFO, __file__, 1, "building", (), None)
    assert not bm25s_log.filter(record)
    record.levelno = logging.ERROR
    assert bm25s_log.filter(record)


@pytest.mark.slow
def test_the_torch_model_loads_with_the_hub_offline():
    """A fresh process loads the packaged model on torch: huggingface_hub, imported by the
    loader, reads the hub as offline."""
    script = (
        "from retrieval.embedder import load_encoder\n"
        "load_encoder(backend='torch').encode_query('offline?')\n"
        "import huggingface_hub.constants as hub\n"
        "print(hub.HF_HUB_OFFLINE)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in PREPARED}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "True"
