"""Shared fixtures: the real packaged model (loaded once), real FAISS and SQLite."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval import QuoteDesk, Settings
from retrieval.embedder import Embedder, shared_embedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden" / "seeds.jsonl"


class CountingEmbedder:
    """The real embedder, counting how many texts it encodes."""

    def __init__(self, inner: Embedder):
        self._inner = inner
        self.encoded = 0
        self.texts: list[str] = []
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def encode(self, texts, *, progress=None):  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        self.texts.extend(texts)
        return self._inner.encode(texts, progress=progress)

    def encode_query(self, text: str):  # type: ignore[no-untyped-def]
        self.encoded += 1
        self.texts.append(text)
        return self._inner.encode_query(text)


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


def golden(kind: str = "in_domain") -> list[dict]:
    rows = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    if kind == "off_topic":
        return [r for r in rows if r.get("off_topic")]
    return [r for r in rows if not r.get("off_topic")]
