"""Collection across the repository; the tests' fixtures are in ``tests/conftest.py``.

The examples in the product's docstrings (``>>>`` lines in retrieval, bot and standins: the
``testpaths`` of pyproject.toml) run as tests, through ``--doctest-modules``. That option
imports every module it is given to look for examples: the migrations' ``env.py`` would run
Alembic, and each pytest process (each xdist worker) would import what no fast test needs
(every reader's library, a second; Hypothesis, through ``tests/fuzzing.py``). So a module is
collected only when it holds tests (``test_*.py``) or an example.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix != ".py" or collection_path.name.startswith("test_"):
        return None
    return ">>>" not in collection_path.read_text(encoding="utf-8") or None
