"""Shared fixtures. The real packaged model (loaded once per session), real FAISS and SQLite;
tests that use the real model are marked ``slow`` (here, by the fixtures they ask for, as well
as by hand), so ``pytest -m "not slow"`` runs the fast tier on :class:`FakeEmbedder`."""

from __future__ import annotations

import gc
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from retrieval.config import RetrievalConfig, Settings

if TYPE_CHECKING:
    from retrieval.embedder import Embedder
    from retrieval.engine import QuoteDesk
    from tests.helpers import CountingEmbedder, FakeEmbedder

# Under pytest-xdist each worker has a core: OpenMP's (FAISS) and ONNX Runtime's thread pools
# spinning on the other worker's core cost more than they give on the fast tier's tiny indexes.
# Set before FAISS is first imported (by the test modules, after this one), when the OpenMP
# runtime reads it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _ram_disk(folder: str = "/dev/shm", *, room: int = 2 << 30) -> str | None:
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return folder if usage.free >= room and os.access(folder, os.W_OK | os.X_OK) else None


# Tests' throwaway folders on a RAM disk where there is one with room: the suite creates and
# deletes hundreds of databases and indexes, and on a disk their syncs and unlinks cost the fast
# tier seconds. pytest reads this when it first makes a temporary folder (after this import).
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and (ram := _ram_disk()):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = ram

# The throwaway PostgreSQL server's fixtures (postgres_server, postgres_url, database_url, ...).
pytest_plugins = ["tests.postgres"]

# Fixtures that load the real model: a test asking for one is slow.
REAL_MODEL_FIXTURES = frozenset({"embedder", "seed_desk", "real_desk"})
# The fake embedder's cosines are small (hashed words): its desks never abstain.
FAKE_CONFIG = RetrievalConfig(min_similarity=0.0)


# A module whose tests are all slow says so in one line at its top level; the fast tier does
# not import it (its imports, Hypothesis among them, and its assertion rewriting cost each
# xdist worker more than half a second).
_ALL_SLOW = re.compile(r"^pytestmark = pytest\.mark\.slow$", re.M)


def fast_tier(config: pytest.Config) -> bool:
    """Whether this run is the fast tier: ``-m "not slow"``, exactly that expression."""
    return bool(config.getoption("markexpr", "").split() == ["not", "slow"])


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast tier, skip the modules marked slow as a whole: every test in them would be
    deselected anyway. Any other run collects them."""
    if (
        collection_path.suffix == ".py"
        and collection_path.name.startswith("test_")
        and fast_tier(config)
        and _ALL_SLOW.search(collection_path.read_text(encoding="utf-8"))
    ):
        return True
    return None


def pytest_configure(config: pytest.Config) -> None:
    if fast_tier(config):
        # The fast tier has no Hypothesis test (the fuzz modules are slow as a whole, above),
        # and Hypothesis' pytest plugin imports all of Hypothesis at the end of every run, to
        # report on them: a fifth of a second in each process, after the last test.
        config.pluginmanager.set_blocked("hypothesispytest")


def pytest_sessionstart() -> None:
    _freeze_what_lives_on()


@pytest.hookimpl(wrapper=True)
def pytest_collection() -> Iterator[object]:
    """Collect without the cyclic garbage collector: importing the test modules makes some
    hundred thousand objects that live to the end and little garbage, and the collector's
    passes over them cost each xdist worker a third of a second."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()
        _freeze_what_lives_on()


def _freeze_what_lives_on() -> None:
    """Keep the objects alive now (pytest, the modules imported, the tests collected, all kept
    to the end) out of the cyclic garbage collector's later passes. Each full pass over them
    took a tenth of a second or more, some ten times in a run of the fast tier (the slowest as
    the process exits); what tests create is collected as before."""
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # The real model, or the PostgreSQL server (a process of its own): the fast tier
        # runs the same storage tests on SQLite.
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(
            "postgres"
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    from retrieval.embedder import shared_embedder

    return shared_embedder(None)


def open_desk(data: Path, embedder: object, config: RetrievalConfig | None = None) -> QuoteDesk:
    """A desk whose database and index live in ``data``."""
    # Imported here, as tests.helpers (NumPy) in the fixtures below: the engine's imports
    # (SQLAlchemy, FAISS, BM25) would slow the start of every pytest process, xdist's
    # controller included, which runs no test.
    from retrieval.engine import QuoteDesk

    return QuoteDesk(
        Settings.resolve(data_dir=data, database_url=f"sqlite:///{data}/q.db"),
        config=config,
        embedder=embedder,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def seed_desk(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> QuoteDesk:
    """A desk over the shipped seeds with the real model; shared, so tests must not change
    its corpus."""
    from tests.helpers import SEEDS

    desk = open_desk(tmp_path_factory.mktemp("seed-desk"), embedder)
    desk.ingest(SEEDS)
    return desk


@pytest.fixture(scope="session")
def fake_seed_desk(tmp_path_factory: pytest.TempPathFactory, seeded_data: Path) -> QuoteDesk:
    """A desk over the shipped seeds with :class:`FakeEmbedder`; shared, so tests must not
    change its corpus."""
    from tests.helpers import FakeEmbedder

    folder = copy_data_dir(seeded_data, tmp_path_factory.mktemp("fake-seed-desk") / "data")
    return open_desk(folder, FakeEmbedder(), FAKE_CONFIG)


def seeded_template(folder: Path, corpus: Path | None = None) -> Path:
    """Make ``folder`` a data dir holding ``corpus`` (the seeds by default) ingested on
    :class:`FakeEmbedder` (its database ``q.db``, its indexes saved), then close the database:
    a template for :func:`copy_data_dir`."""
    from tests.helpers import SEEDS, FakeEmbedder

    desk = open_desk(folder, FakeEmbedder())
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


@pytest.fixture(scope="session")
def seeded_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the seeds ingested on :class:`FakeEmbedder`, made once per process:
    a template, never opened by a test; :func:`copy_data_dir` gives a test its own copy."""
    return seeded_template(tmp_path_factory.mktemp("seeded") / "data")


@pytest.fixture
def make_desk(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[..., tuple[QuoteDesk, FakeEmbedder]]:
    """A fresh desk on :class:`FakeEmbedder` (which counts what it encodes); ``make(name)``
    with the same name opens the same data dir again, as another process would.
    ``make(seeded=True)`` makes a new data dir a copy of ``seeded_data`` (the seeds ingested,
    their indexes saved) first."""

    from tests.helpers import FakeEmbedder

    def make(name: str = "data", *, seeded: bool = False) -> tuple[QuoteDesk, FakeEmbedder]:
        fake = FakeEmbedder()
        if seeded and not (tmp_path / name).exists():
            copy_data_dir(request.getfixturevalue("seeded_data"), tmp_path / name)
        return open_desk(tmp_path / name, fake, FAKE_CONFIG), fake

    return make


@pytest.fixture
def real_desk(
    tmp_path: Path, embedder: Embedder
) -> Callable[..., tuple[QuoteDesk, CountingEmbedder]]:
    """Like ``make_desk``, with the real model (counting what it encodes)."""
    from tests.helpers import CountingEmbedder

    def make(name: str = "data") -> tuple[QuoteDesk, CountingEmbedder]:
        counting = CountingEmbedder(embedder)
        return open_desk(tmp_path / name, counting), counting

    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    from tests.helpers import SEEDS

    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder
