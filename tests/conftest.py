"""Shared fixtures: the real packaged model (loaded once), real FAISS and SQLite."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval import QuoteDesk, Settings
from retrieval.embedder import Embedder, shared_embedder
from tests.helpers import SEEDS, CountingEmbedder

# The throwaway PostgreSQL server's fixtures (tests/postgres.py), registered by import.
from tests.postgres import (  # noqa: F401
    database_url,
    postgres_fresh_url,
    postgres_server,
    postgres_url,
)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder(None)


@pytest.fixture(scope="session")
def seed_desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> QuoteDesk:
    """A desk over the shipped seeds; shared, so tests must not change its corpus."""
    data = tmp_path_factory.mktemp("seed-desk")
    desk = QuoteDesk(
        Settings.resolve(data_dir=data, database_url=f"sqlite:///{data}/q.db"), embedder=embedder
    )
    desk.ingest(SEEDS)
    return desk


@pytest.fixture
def make_desk(
    tmp_path: Path, embedder: Embedder
) -> Callable[..., tuple[QuoteDesk, CountingEmbedder]]:
    """A fresh desk in its own data dir, with an embedder that counts what it encodes."""

    def make(name: str = "data") -> tuple[QuoteDesk, CountingEmbedder]:
        counting = CountingEmbedder(embedder)
        data = tmp_path / name
        desk = QuoteDesk(
            Settings.resolve(data_dir=data, database_url=f"sqlite:///{data}/q.db"),
            embedder=counting,  # type: ignore[arg-type]
        )
        return desk, counting

    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder
