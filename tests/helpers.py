"""What tests share besides fixtures: paths, the golden set, encoders for tests, desks and data
dirs on them, the CLI in process, and a newsroom's folder.

``FakeEncoder`` is small and deterministic (hashed words): tests that need no real model use
it and stay fast. Tests with the real model carry ``@pytest.mark.slow``.

The fixtures are in the conftest files; the tests import what is here. This module is cheap to
import (``tests/conftest.py`` imports it in its fixtures): the engine, the CLI and the file
makers are imported by the functions that need them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.records import Document, Passage, Source
from retrieval.settings import Settings
from retrieval.tuning import RetrievalConfig

if TYPE_CHECKING:
    import pytest
    from click.testing import Result

    from retrieval.embedder import Encoder
    from retrieval.engine import QuoteDesk

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden" / "seeds.jsonl"

# The fake encoder's cosines are small (hashed words): its desks never abstain.
FAKE_CONFIG = RetrievalConfig(min_similarity=0.0)

_WORD = re.compile(r"\w+")


class FakeEncoder:
    """A deterministic stand-in for the sentence encoder: each lowercased word is hashed to a
    signed dimension, the sum is normalized. Texts sharing words are close; no model, no torch.

    Example:
        >>> e = FakeEncoder()
        >>> float(e.encode(["Baku withdrew"])[0] @ e.encode_query("Baku")[0]) > 0.5
        True
    """

    name = "fake-hashed-words"

    def __init__(self, dimension: int = 384, *, max_tokens: int = 256):
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.encoded = 0
        self.texts: list[str] = []

    def count_tokens(self, text: str) -> int:
        # About as many word pieces as the real tokenizer makes of news text.
        return len(_WORD.findall(text)) * 5 // 4

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.encoded += len(texts)
        self.texts.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                slot, sign = _word_slot(word, self.dimension)
                vectors[row, slot] += sign
            norm = float(np.linalg.norm(vectors[row]))
            if norm:
                vectors[row] /= norm
        if progress and len(texts):
            progress(len(texts))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])


@functools.lru_cache(maxsize=1 << 16)
def _word_slot(word: str, dimension: int) -> tuple[int, float]:
    # Cached: the fast tier encodes the same seeds in hundreds of tests.
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little") % dimension, 1.0 if digest[4] & 1 else -1.0


class CountingEncoder:
    """The real encoder, counting how many texts it encodes."""

    def __init__(self, inner: Any):
        self._inner = inner
        self.encoded = 0
        self.texts: list[str] = []
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return int(self._inner.count_tokens(text))

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.encoded += len(texts)
        self.texts.extend(texts)
        return np.asarray(self._inner.encode(texts, progress=progress))

    def encode_query(self, text: str) -> np.ndarray:
        self.encoded += 1
        self.texts.append(text)
        return np.asarray(self._inner.encode_query(text))


def golden(kind: str = "in_domain") -> list[dict[str, Any]]:
    """The seed golden set's in-domain (default) or off-topic questions."""
    rows = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    if kind == "off_topic":
        return [r for r in rows if r.get("off_topic")]
    return [r for r in rows if not r.get("off_topic")]


def make_passage(
    pid: int,
    *,
    text: str = "t",
    day: date | None = None,
    document: int | None = None,
    vector: Sequence[float] | None = None,
    title_vector: Sequence[float] | None = None,
    title: str | None = None,
) -> Passage:
    """A hand-made passage record (document ``document``, default one per passage)."""
    doc_id = pid if document is None else document
    return Passage(
        id=pid,
        document=Document(
            id=doc_id,
            source=Source(f"{doc_id}.txt", day, title),
            title_vector=None if title_vector is None else unit(title_vector),
        ),
        start=0,
        end=len(text),
        text=text,
        vector=unit(vector if vector is not None else [1.0, 0.0]),
    )


def unit(values: Sequence[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / (float(np.linalg.norm(vector)) or 1.0)


# --- desks and data dirs ------------------------------------------------------------------------


def open_desk(
    data: Path,
    encoder: Encoder | None = None,
    config: RetrievalConfig | None = None,
    *,
    url: str | None = None,
) -> QuoteDesk:
    """A desk whose index lives in ``data``, on ``encoder`` (a new :class:`FakeEncoder` by
    default) and ``config`` (the product's by default; :data:`FAKE_CONFIG` for the fake
    encoder's answers); its database is ``url``, by default ``q.db`` in ``data``."""
    # Imported here: the engine's imports (SQLAlchemy, FAISS, BM25) would slow the start of
    # every pytest process, xdist's controller included, which runs no test.
    from retrieval.engine import QuoteDesk

    return QuoteDesk(
        Settings.resolve(data_dir=data, database_url=url or f"sqlite:///{data}/q.db"),
        config=config,
        encoder=encoder if encoder is not None else FakeEncoder(),
    )


def seeded_template(folder: Path, corpus: Path | None = None) -> Path:
    """Make ``folder`` a data dir holding ``corpus`` (the seeds by default) ingested on
    :class:`FakeEncoder` (its database ``q.db``, its indexes saved), then close the database:
    a template for :func:`copy_data_dir`."""
    desk = open_desk(folder, FakeEncoder())
    desk.ingest(corpus or SEEDS)
    desk.store.close()  # the last connection closed: SQLite folds its WAL into the file
    return folder


def copy_data_dir(template: Path, dest: Path, *, database: str = "q.db") -> Path:
    """A copy at ``dest`` of the data dir ``template``, its database file named ``database``:
    what an ingest of the template's corpus leaves, in a few milliseconds, for tests whose
    claim is not about ingesting. (Its documents' folder is the template's: a test that
    ingests the same corpus again from elsewhere starts from an empty data dir.)"""
    shutil.copytree(template, dest)
    if database != "q.db":
        (dest / "q.db").rename(dest / database)
    return dest


# ``make_desk``'s type: ``make(name="data", *, seeded=False)``, a desk and its encoder.
MakeDesk = Callable[..., "tuple[QuoteDesk, FakeEncoder]"]


# --- the CLI in process -------------------------------------------------------------------------

Run = Callable[..., "Result"]


def runner(desk_encoder: Encoder | None, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the CLI in process; every desk it opens gets ``desk_encoder``."""
    import functools

    from click.testing import CliRunner

    from bot.cli import cli, common

    if desk_encoder is not None:
        opened = functools.partial(common.open_desk, encoder=desk_encoder)
        monkeypatch.setattr(common, "open_desk", opened)

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


# --- a newsroom's folder ------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>Harbour strike ends | The Courier</title>
<link rel="canonical" href="https://courier.example/2022/07/06/harbour-strike-ends">
<meta property="article:published_time" content="2022-07-06T08:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Harbour strike ends</h1>
<p>Dock workers voted on Wednesday to end the three-week strike that had closed the harbour
to container ships, after the port operator agreed to a pay rise of nine percent.</p>
<p>The union said the crane operators would return for the night shift, and that the backlog
of ships waiting in the bay would take about ten days to clear.</p>
<p>Shipping companies had diverted cargo to the northern ports during the strike.</p>
</article><footer>© 2026 The Courier. All rights reserved.</footer></body></html>"""

RECORDS: list[Any] = [
    {
        "title": "Bridge reopens after repairs",
        "url": "https://courier.example/bridge",
        "published": "2022-07-08",
        "text": "The old river bridge reopened to traffic on Friday after eight months of "
        "repairs to its steel cables, the city engineer said.\n\nCyclists get a lane.",
    },
    "not an object",
    {
        "headline": "Library extends its hours",
        "link": "https://courier.example/library",
        "datePublished": "2022-07-09T10:00:00+02:00",
        "body": "<p>The central library will open until ten in the evening from Monday, "
        "the council announced.</p>",
    },
]


def make_newsroom(folder: Path) -> Path:
    """A newsroom's folder at ``folder``: a web page, a JSON export (:data:`RECORDS`), a
    Markdown note, a PDF, a Word file, a photo and a scan with no text layer."""
    from tests.readers import make_files

    (folder / "web").mkdir(parents=True)
    (folder / "web" / "strike.html").write_text(PAGE)
    (folder / "exports").mkdir()
    lines = [json.dumps(r) for r in RECORDS]
    (folder / "exports" / "week.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "notes").mkdir()
    (folder / "notes" / "ferry.md").write_text(
        "---\ntitle: Ferry timetable changes\ndate: 2022-07-05\n"
        "url: https://courier.example/ferry\n---\n\n"
        "The **ferry** to the island will run every [forty minutes](https://x.example) "
        "in summer, the operator said on Tuesday, after complaints about crowded boats.\n"
    )
    make_files.press_release_pdf(folder / "release.pdf")
    make_files.article_docx(folder / "transcript.docx")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    make_files.scan_pdf(folder / "scan.pdf")
    return folder
