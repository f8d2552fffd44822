"""Shared fixtures. The real packaged model (loaded once per session), real FAISS and SQLite;
tests that use the real model are marked ``slow`` (here, by the fixtures they ask for, as well
as by hand), so ``pytest -m "not slow"`` runs the fast tier on :class:`FakeEncoder`."""

from __future__ import annotations

import gc
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from retrieval.embedder import TorchEncoder
    from retrieval.engine import QuoteDesk
    from tests.helpers import CountingEncoder, FakeEncoder, MakeDesk, Run
    from tests.web.site import Site

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
REAL_MODEL_FIXTURES = frozenset({"encoder", "seed_desk", "real_desk"})


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
def pytest_collection() -> Generator[None, object, object]:
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
def encoder() -> TorchEncoder:
    from retrieval.embedder import shared_torch_encoder

    return shared_torch_encoder(None)


@pytest.fixture(scope="session")
def seed_desk(tmp_path_factory: pytest.TempPathFactory, encoder: TorchEncoder) -> QuoteDesk:
    """A desk over the shipped seeds with the real model; shared, so tests must not change
    its corpus."""
    # Imported here, as in the fixtures below: tests.helpers (NumPy) would slow the start of
    # every pytest process, xdist's controller included, which runs no test.
    from tests.helpers import SEEDS, open_desk

    desk = open_desk(tmp_path_factory.mktemp("seed-desk"), encoder)
    desk.ingest(SEEDS)
    return desk


@pytest.fixture(scope="session")
def fake_seed_desk(tmp_path_factory: pytest.TempPathFactory, seeded_data: Path) -> QuoteDesk:
    """A desk over the shipped seeds with :class:`FakeEncoder`; shared, so tests must not
    change its corpus."""
    from tests.helpers import FAKE_CONFIG, FakeEncoder, copy_data_dir, open_desk

    folder = copy_data_dir(seeded_data, tmp_path_factory.mktemp("fake-seed-desk") / "data")
    return open_desk(folder, FakeEncoder(), FAKE_CONFIG)


@pytest.fixture(scope="session")
def seeded_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the seeds ingested on :class:`FakeEncoder`, made once per process:
    a template, never opened by a test; :func:`copy_data_dir` gives a test its own copy."""
    from tests.helpers import seeded_template

    return seeded_template(tmp_path_factory.mktemp("seeded") / "data")


@pytest.fixture
def make_desk(tmp_path: Path, request: pytest.FixtureRequest) -> MakeDesk:
    """A fresh desk on :class:`FakeEncoder` (which counts what it encodes); ``make(name)``
    with the same name opens the same data dir again, as another process would.
    ``make(seeded=True)`` makes a new data dir a copy of ``seeded_data`` (the seeds ingested,
    their indexes saved) first."""

    from tests.helpers import FAKE_CONFIG, FakeEncoder, copy_data_dir, open_desk

    def make(name: str = "data", *, seeded: bool = False) -> tuple[QuoteDesk, FakeEncoder]:
        fake = FakeEncoder()
        if seeded and not (tmp_path / name).exists():
            copy_data_dir(request.getfixturevalue("seeded_data"), tmp_path / name)
        return open_desk(tmp_path / name, fake, FAKE_CONFIG), fake

    return make


@pytest.fixture
def real_desk(
    tmp_path: Path, encoder: TorchEncoder
) -> Callable[..., tuple[QuoteDesk, CountingEncoder]]:
    """Like ``make_desk``, with the real model (counting what it encodes)."""
    from tests.helpers import CountingEncoder, open_desk

    def make(name: str = "data") -> tuple[QuoteDesk, CountingEncoder]:
        counting = CountingEncoder(encoder)
        return open_desk(tmp_path / name, counting), counting

    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    from tests.helpers import SEEDS

    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding a copy of seeds/, a fresh data dir, and output as if piped."""
    from tests.helpers import SEEDS

    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Whatever terminal runs the tests, output is decided by the test alone.
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI in ``workdir``, in process, on the fake encoder."""
    from tests.helpers import FakeEncoder, runner

    return runner(FakeEncoder(), monkeypatch)


@pytest.fixture
def newsroom(tmp_path: Path) -> Path:
    """A newsroom's folder of every kind of file (:func:`tests.helpers.make_newsroom`)."""
    from tests.helpers import make_newsroom

    return make_newsroom(tmp_path / "newsroom")


@pytest.fixture
def site() -> Iterator[Site]:
    """The local site, started, with no pages yet (robots.txt absent: everything allowed)."""
    from tests.web.site import Site

    with Site() as running:
        yield running
