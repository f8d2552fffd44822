"""``quotedesk bench``: every figure of the speed-and-scale goals, each beside a baseline measured
in the same run (the machine is shared: only a figure next to one taken minutes apart means
anything).

Stages, in order:

1. **ingest**: ``QuoteDesk.ingest`` of a folder end to end (read, cut, encode, store, index)
   against a plain ``SentenceTransformer(packaged model).encode()`` of the same folder's
   blank-line paragraphs with the fp32 model.
2. **start-up**: ``quotedesk ask`` for one question from a cold process on the seeds, against
   the default encoder loaded in a bare process.
3. **scale**, at each corpus size: the store is filled (the ingested passages first, then
   synthetic ones made from them, see :mod:`bot.bench.fill`) and every index kind is built,
   saved, loaded by a ``QuoteDesk`` and asked the questions through ``QuoteDesk.ask`` with the
   answer formatted; exact search (flat) is the baseline of each kind. BM25 is built from the
   database, saved, and loaded memory-mapped.
   At one size the Home tab is built as its listener builds it, cold and warm, against the
   ``/sources`` reply (:mod:`bot.bench.home`). At one size (the largest) small changes are
   ingested while a replica in another process answers (:mod:`bot.bench.changes`).
4. **serve** (at one size): ``quotedesk serve`` from launch to a healthy ``/healthz``, then
   signed Slack events at a concurrency against it, with the stand-in Web API; health checks
   at the same concurrency are the baseline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import io
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from rich.console import Console

from bot import terminal
from bot.bench import changes, fill, formats, home, load, procs
from bot.bench.report import Point, Report, Row
from bot.bench.vectors import read_vectors, recall_at
from retrieval import offline
from retrieval.embedder import Encoder, packaged_model_path
from retrieval.engine import QuoteDesk
from retrieval.search import dense, lexical
from retrieval.search.dense import FLAT, HNSW, IVF_PQ, KINDS, VectorIndex
from retrieval.search.lexical import LexicalIndex
from retrieval.settings import Settings
from retrieval.store import Store
from retrieval.tuning import RetrievalConfig
from standins.processes import serve_process
from standins.web_api import StandIn

# Asked when the corpus has no questions.jsonl beside it (the seeds' stories).
DEFAULT_QUESTIONS = (
    "why did Baku skip the Washington meeting?",
    "who fled on horseback?",
    "what did the State Department official say?",
    "what did Armenia and Azerbaijan agree?",
    "KAMAZ trucks",
    "what happened at the border?",
    "who mediated the talks?",
    "what was announced this week?",
    "which countries took part in the meeting?",
    "what did Russia propose?",
)
T = TypeVar("T")
R = TypeVar("R")

# Goals of the speed-and-scale work.
TARGET_P50_MS = 20.0
TARGET_P99_MS = 60.0
TARGET_MEMORY_MB = 600.0
TARGET_RECALL = 0.95
TARGET_INGEST_RATIO = 1.5
TARGET_REINGEST_SHARE = 0.05
TARGET_ASK_S = 2.0
TARGET_SERVE_S = 15.0
# `quotedesk serve` not healthy by then: the stage fails.
SERVE_WITHIN_S = 180.0
TARGET_EVENT_P99_MS = 300.0
# Product quantization needs this many training vectors (256 centroids for each part).
PQ_MIN_PASSAGES = 10_000
# Candidate lookups timed alone at each size.
STORE_LOOKUPS = 20
# Candidates each retriever is asked for when timed alone (the engine's default depth).
SEARCH_DEPTH = RetrievalConfig().candidates


@dataclass
class Prepared:
    """One dense kind at one size, loaded into a desk of its own."""

    kind: str
    described: str
    desk: QuoteDesk
    build_s: float
    load_s: float
    memory_mb: float
    # recall@10 against exact search for the questions, and for held-out passages.
    recall: float
    recall_held_out: float
    dense_ms: float
    answers_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Shared:
    """What every dense kind at one size shares, p50 milliseconds (and BM25's size)."""

    encode_ms: float
    lexical_ms: float
    store_ms: float
    bm25_mb: float


@dataclass(frozen=True)
class Plan:
    """How much a bench run measures."""

    name: str
    corpus: Path
    sizes: tuple[int, ...]
    kinds: tuple[str, ...] = KINDS
    hnsw_max: int = 100_000
    pq_max: int = 100_000
    repeats: int = 2
    held_out: int = 500
    cold_runs: int = 3
    # Untimed cold runs first: the page cache warm, as it is for a second run of a command.
    warmup_runs: int = 1
    # Untimed answers of each desk first: its first answers warm its caches.
    warmup_asks: int = 3
    # Answering at one size stops after this long, whatever ``repeats`` says (each kind has
    # then answered about as many questions: they take turns).
    answer_seconds: float = 45.0
    # Desks take turns by blocks of this many questions, the first of each untimed: a desk
    # answering right after another (an exact search reads 1.5 GB at a million) finds the
    # CPU's caches holding the other's index; a desk serving alone does not.
    answer_block: int = 16
    serve_size: int | None = None
    # The size the Home tab is built at (bot/bench/home.py).
    home_size: int | None = None
    # The size small changes are made at while a replica answers (bot/bench/changes.py):
    # passages each adds or removes, changes in a row after the first two, the step's budget.
    change_size: int | None = None
    change_passages: int = 1_000
    change_rounds: int = 20
    change_seconds: float = 780.0
    events: int = 400
    event_seconds: float = 20.0
    concurrency: int = 16
    # Sizes up to this one also build and search with bm25s's own code, the baseline.
    bm25s_max: int = 10_000
    questions: tuple[str, ...] = DEFAULT_QUESTIONS
    # Paragraphs the plain-encode baseline encodes: a seeded random sample, as its speed per
    # kilobyte is what counts (all of rtqa-2022 would take the fp32 model over ten minutes).
    baseline_paragraphs: int | None = 2_000
    # A newsroom-shaped set (mixed formats beside a plain-text twin): when given, the run
    # measures it alone (bot/bench/formats.py).
    newsroom: Path | None = None


def full_plan(corpus: Path, questions: Sequence[str]) -> Plan:
    return Plan(
        name="full",
        corpus=corpus,
        sizes=(10_000, 100_000, 1_000_000),
        # Product quantization: its training alone takes minutes at 100k on two cores, and
        # its recall is measured at 10k.
        pq_max=10_000,
        serve_size=100_000,
        home_size=100_000,
        change_size=1_000_000,
        questions=tuple(questions) or DEFAULT_QUESTIONS,
    )


def smoke_plan(corpus: Path, questions: Sequence[str]) -> Plan:
    return Plan(
        name="smoke",
        corpus=corpus,
        sizes=(500, 2_000),
        hnsw_max=2_000,
        repeats=1,
        held_out=50,
        cold_runs=1,
        warmup_runs=0,
        warmup_asks=1,
        serve_size=2_000,
        home_size=2_000,
        change_size=2_000,
        change_passages=100,
        change_rounds=10,
        change_seconds=30.0,
        events=32,
        event_seconds=5.0,
        bm25s_max=2_000,
        answer_seconds=10.0,
        questions=(tuple(questions) or DEFAULT_QUESTIONS)[:5],
    )


def read_questions(path: Path) -> list[str]:
    """The questions of a JSON-lines question set (``q`` or ``question`` of each line)."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            text = row.get("q") or row.get("question")
            if text and not row.get("off_topic"):
                found.append(str(text))
    return found


class Bench:
    """One run of the bench over ``plan``, its files under ``work``."""

    def __init__(
        self,
        plan: Plan,
        work: Path,
        report: Report,
        *,
        say: Callable[[str], None],
        seeds: Path,
        encoder: Encoder | None = None,
        baseline_encoder: Callable[[list[str]], float] | None = None,
    ):
        self.plan = plan
        self.work = work
        self.report = report
        self.say = say
        self.seeds = seeds
        self._encoder = encoder
        self._baseline_encoder = baseline_encoder
        self.started = time.perf_counter()
        self.config = RetrievalConfig()
        self.failed: list[str] = []
        # One encoder build for every desk and child process of the run (a fresh data dir
        # would otherwise export the model again, and time that instead of a start).
        # QUOTEDESK_MODEL_CACHE, read as every desk reads it, when set.
        self.models = Settings.resolve(data_dir=work).model_cache or work / "models"
        self.child_env = {"QUOTEDESK_MODEL_CACHE": str(self.models)}
        # A replica (the change step's other process) makes an encoder of the class given
        # here (a test's fake); else it loads the one its settings name.
        self.replica_encoder = (
            None if encoder is None else f"{type(encoder).__module__}:{type(encoder).__qualname__}"
        )

    # Helpers

    def log(self, message: str) -> None:
        self.say(f"[{time.perf_counter() - self.started:6.0f}s] {message}")

    def desk(
        self, name: str, *, config: RetrievalConfig | None = None, store: Store | None = None
    ) -> QuoteDesk:
        folder = self.work / name
        settings = Settings.resolve(
            data_dir=folder,
            database_url=f"sqlite:///{folder / 'quotedesk.db'}",
            model_cache=self.models,
        )
        desk = QuoteDesk(settings, config=config or self.config, encoder=self._encoder, store=store)
        if self._encoder is None:
            self._encoder = desk.encoder
            self.report.encoder = describe_encoder(self._encoder)
        return desk

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self.desk("seeds")
        assert self._encoder is not None
        return self._encoder

    # 1. Ingest

    def ingest(self) -> QuoteDesk:
        # A copy of the corpus, so that one file can be changed for the incremental figure.
        corpus = self.work / "corpus"
        if not corpus.is_dir():
            shutil.copytree(self.plan.corpus, corpus)
        desk = self.desk("ingest")
        encoder = self.encoder  # loaded before the clock starts, as a running bot has it
        self.log(f"ingest: {self.plan.corpus} with {describe_encoder(encoder)}")
        result, ingest_s = _timed(lambda: desk.ingest(corpus))
        texts = [
            p.read_text(encoding="utf-8", errors="replace") for p in sorted(_corpus_files(corpus))
        ]
        kilobytes = sum(len(t.encode()) for t in texts) / 1000
        blocks = list(fill.paragraphs(texts))
        sample = baseline_sample(blocks, self.plan.baseline_paragraphs)
        sample_kb = sum(len(b.encode()) for b in sample) / 1000
        of = "all" if len(sample) == len(blocks) else f"a random {len(sample):,} of the"
        self.log(
            f"ingest: {result.passages:,} passages in {ingest_s:.0f} s; "
            f"baseline: plain encode of {of} {len(blocks):,} paragraphs"
        )
        gc.collect()
        plain_s = (self._baseline_encoder or plain_encode)(sample)
        ours, theirs = kilobytes / ingest_s, sample_kb / plain_s
        self.report.add(
            Row(
                "ingest",
                f"ingest end to end, {self.plan.corpus.name}: {len(texts)} files, "
                f"{result.passages:,} passages",
                ours,
                "kB/s",
                f"plain fp32 encode of {of} {len(blocks):,} paragraphs",
                theirs,
                better="higher",
                target=f">= {TARGET_INGEST_RATIO}x baseline",
                met=ours / theirs >= TARGET_INGEST_RATIO,
                note=f"{kilobytes:,.0f} kB in {ingest_s:.0f} s vs {sample_kb:,.0f} kB in "
                f"{plain_s:.0f} s",
            )
        )
        self.incremental(desk, corpus, ingest_s, result.passages)
        return desk

    def incremental(self, desk: QuoteDesk, corpus: Path, full_s: float, passages: int) -> None:
        """Ingest the same folder again unchanged, then with one file changed."""
        again, again_s = _timed(lambda: desk.ingest(corpus))
        self.report.add(
            Row(
                "ingest",
                f"re-ingest of the unchanged folder ({passages:,} passages)",
                again_s,
                "s",
                "the full ingest above",
                full_s,
                target=f"<= {TARGET_REINGEST_SHARE:.0%} of it",
                met=again_s <= TARGET_REINGEST_SHARE * full_s,
                note=f"{again.encoded} passages encoded, {again.unchanged} files unchanged",
            )
        )
        changed = sorted(_corpus_files(corpus))[0]
        changed.write_text(
            changed.read_text(encoding="utf-8", errors="replace")
            + "\n\nA paragraph added by the bench, to change this file.\n",
            encoding="utf-8",
        )
        one, one_s = _timed(lambda: desk.ingest(corpus))
        self.report.add(
            Row(
                "ingest",
                "re-ingest with one file changed",
                one_s,
                "s",
                "the full ingest above",
                full_s,
                note=f"{one.changed} file changed, {one.encoded} passages encoded "
                f"(that file's), {one.unchanged} unchanged",
            )
        )
        self.log(
            f"ingest: again unchanged in {again_s:.1f} s ({again.encoded} encoded); "
            f"one file changed in {one_s:.1f} s ({one.encoded} encoded)"
        )

    # 2. Start-up

    def startup(self) -> None:
        seeds = self.desk("seeds")
        if seeds.is_empty():
            seeds.ingest(self.seeds)
        seeds.warm()  # index caches written, as a second run finds them
        question = DEFAULT_QUESTIONS[0]
        self.log("start-up: cold `quotedesk ask` on the seeds, and a bare encoder process")
        env = self.child_env
        for _ in range(self.plan.warmup_runs):
            procs.cold_ask(seeds.settings.data_dir, question, env=env)
        asks = [
            procs.cold_ask(seeds.settings.data_dir, question, env=env)
            for _ in range(self.plan.cold_runs)
        ]
        bares = [procs.bare_encoder(env=env) for _ in range(self.plan.cold_runs)]
        for finished in (*asks, *bares):
            if finished.code:
                raise RuntimeError(
                    f"a child process failed ({finished.code}): {finished.output[-2000:]}"
                )
        self.bare_s = statistics.median(f.seconds for f in bares)
        self.bare_rss = statistics.median(f.max_rss_mb for f in bares)
        ask_s = statistics.median(f.seconds for f in asks)
        runs = f"median of {len(asks)}"
        self.report.add(
            Row(
                "start-up",
                f"`quotedesk ask` one question, cold process, seeds ({runs})",
                ask_s,
                "s",
                "bare process: default encoder loaded, one question encoded",
                self.bare_s,
                target=f"<= {TARGET_ASK_S:.0f} s",
                met=ask_s <= TARGET_ASK_S,
            )
        )
        self.report.add(
            Row(
                "start-up",
                "`quotedesk ask` peak resident memory",
                statistics.median(f.max_rss_mb for f in asks),
                "MB",
                "bare encoder process",
                self.bare_rss,
            )
        )

    # 3. Scale

    def scale(self, source: QuoteDesk) -> None:
        pool = fill.RealPool.from_store(source.store)
        self.log(
            f"scale: {len(pool.passages):,} real passages, {len(pool.words):,} words to draw from"
        )
        desk = self.desk("scale")
        store = desk.store
        filler = fill.Filler(store, pool)
        questions = list(self.plan.questions)
        encoded = self.encoder.encode(questions)
        held_out = fill.held_out_queries(pool.vectors, self.plan.held_out)
        recall_queries = np.vstack([encoded, held_out]).astype(np.float32)
        for size in self.plan.sizes:
            started = time.perf_counter()
            filler.fill_to(size)
            self.log(
                f"scale {label(size)}: store filled to {store.passage_count():,} passages "
                f"in {time.perf_counter() - started:.0f} s"
            )
            measure = functools.partial(
                self.one_size, size, store, questions, encoded, recall_queries
            )
            self.stage(f"query {label(size)}", measure)
            gc.collect()
            if size == self.plan.change_size:
                change = functools.partial(
                    self.change, size, store, pool, questions, recall_queries
                )
                self.stage(f"change {label(size)}", change)
                gc.collect()

    def one_size(
        self,
        size: int,
        store: Store,
        questions: list[str],
        encoded: np.ndarray,
        recall_queries: np.ndarray,
    ) -> None:
        section = f"query {label(size)}"
        data_dir = self.work / "scale"
        version = store.corpus_version()
        started = time.perf_counter()
        ids, vectors = read_vectors(store, self.encoder.dimension)
        self.log(
            f"{section}: {len(ids):,} vectors read from the database "
            f"in {time.perf_counter() - started:.0f} s"
        )

        # Lexical: built from the database and saved, then loaded memory-mapped.
        for old in data_dir.glob("lexical-*"):
            shutil.rmtree(old, ignore_errors=True)
        started = time.perf_counter()
        built = lexical.load_or_build(store, data_dir)
        build_s = time.perf_counter() - started
        del built
        gc.collect()
        started = time.perf_counter()
        words = LexicalIndex.load(lexical.lexical_path(data_dir, version), version=version)
        load_s = time.perf_counter() - started
        self.log(
            f"{section}: BM25 built from the database and saved in {build_s:.1f} s, "
            f"loaded in {load_s:.2f} s"
        )
        self.report.add(
            Row(
                section,
                "BM25 load, memory-mapped",
                load_s,
                "s",
                "BM25 build from the database, saved",
                build_s,
                note=f"{words.nbytes / 1e6:,.0f} MB mapped",
            )
        )
        if size <= self.plan.bm25s_max:
            self.bm25s_baseline(section, store)

        started = time.perf_counter()
        flat = VectorIndex.build(ids, vectors, kind=FLAT, config=self.config)
        flat_build_s = time.perf_counter() - started
        truth = flat.search(recall_queries, 10)[1]

        # What every kind shares: encoding the question, BM25, and the store's lookup of the
        # candidates (those exact search and BM25 find).
        lexical_ms = _times(lambda q: words.search(q, SEARCH_DEPTH), questions)
        bm25s_ms = _times(lambda q: bm25s_search(words, q, SEARCH_DEPTH), questions)
        candidates = [
            {int(i) for i in flat.search(v[None, :], SEARCH_DEPTH)[1][0]}
            | set(words.search(q, SEARCH_DEPTH)[1].tolist())
            for q, v in zip(questions, encoded, strict=True)
        ]
        shared = Shared(
            encode_ms=_p(_times(lambda q: self.encoder.encode_query(q), questions), 50),
            lexical_ms=_p(lexical_ms, 50),
            # A few lookups are enough (each can take a second at a million passages).
            store_ms=_p(_times(lambda c: store.passages(c), candidates[:STORE_LOOKUPS]), 50),
            bm25_mb=words.nbytes / 1e6,
        )
        self.report.add(
            Row(
                section,
                "BM25 search alone, p50",
                _p(lexical_ms, 50),
                "ms",
                "bm25s.retrieve on the same index",
                _p(bm25s_ms, 50),
                note=f"p99 {_p(lexical_ms, 99):.1f} vs {_p(bm25s_ms, 99):.1f} ms",
            )
        )
        # Every kind is built, saved and loaded by a desk of its own; then the desks answer
        # the questions in turn, question by question, so that the machine's other work
        # weighs on each kind alike.
        auto = dense.choose_kind(size, self.config)
        prepared: list[Prepared] = []
        for kind in self.kinds_at(size, auto):
            started = time.perf_counter()
            index = flat if kind == FLAT else self.build(kind, ids, vectors)
            build_s = flat_build_s if kind == FLAT else time.perf_counter() - started
            prepared.append(
                self.prepare(kind, index, build_s, store, truth, recall_queries, encoded)
            )
            del index
            if kind == FLAT and auto != FLAT:
                del flat
            gc.collect()
        del ids, vectors
        gc.collect()
        if auto == FLAT:
            flat.save(dense.index_path(data_dir, version))  # what a desk at this size loads
            del flat
        self.answers(prepared, questions)
        exact = prepared[0]
        for one in prepared:
            self.kind_rows(
                section, size, one, exact, auto, shared, len(recall_queries), len(questions)
            )
        del prepared
        gc.collect()
        if size == self.plan.home_size:
            self.stage(f"home {label(size)}", lambda: self.home(size, store, questions))
        if size == self.plan.serve_size:
            self.stage(f"serve {label(size)}", lambda: self.serve(size, questions))

    def kinds_at(self, size: int, auto: str) -> list[str]:
        """The kinds built at ``size``: exact search first (every kind's baseline), the chosen
        one last (its file is the one a desk at this size then finds)."""
        kinds = [FLAT]
        for kind in self.plan.kinds:
            if kind in (FLAT, auto):
                continue
            if kind == HNSW and size > self.plan.hnsw_max:
                self.report.notes.append(
                    f"hnsw was not built at {label(size)}: its build time grows faster than the "
                    f"corpus (see {label(self.plan.hnsw_max)}), far past the bench's time here."
                )
                continue
            if kind == IVF_PQ and not PQ_MIN_PASSAGES <= size <= self.plan.pq_max:
                if size > self.plan.pq_max:
                    self.report.notes.append(
                        f"ivf-pq was not built at {label(size)}: its training alone takes minutes "
                        f"there, and its recall@10 is measured at {label(self.plan.pq_max)}."
                    )
                continue
            kinds.append(kind)
        return kinds if auto == FLAT else [*kinds, auto]

    def build(self, kind: str, ids: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        config = dataclasses.replace(self.config, dense_index=kind)
        return VectorIndex.build(ids, vectors, kind=kind, config=config)

    def prepare(
        self,
        kind: str,
        index: VectorIndex,
        build_s: float,
        store: Store,
        truth: np.ndarray,
        recall_queries: np.ndarray,
        encoded: np.ndarray,
    ) -> Prepared:
        """Save ``index`` where a desk finds it, measure its recall and search time, and load
        it into a desk configured for its kind."""
        data_dir = self.work / "scale"
        path = dense.index_path(data_dir, store.corpus_version())
        index.save(path)
        for other in data_dir.glob("index-*.faiss"):  # of smaller sizes: as a rebuild does
            if other != path:
                other.unlink()
        found = index.search(recall_queries, 10)[1]
        # Questions first: they are what the bot searches for, and they are farther from the
        # passages than passages from each other (recall on them is the lower of the two).
        asked = len(encoded)
        recall = recall_at(found[:asked], truth[:asked])
        recall_held_out = recall_at(found[asked:], truth[asked:])
        dense_ms = _p(_times(lambda v: index.search(v[None, :], SEARCH_DEPTH), list(encoded)), 50)
        started = time.perf_counter()
        config = dataclasses.replace(self.config, dense_index=kind)
        desk = self.desk("scale", config=config, store=store)
        desk.warm()
        load_s = time.perf_counter() - started
        return Prepared(
            kind=kind,
            described=index.describe(),
            desk=desk,
            build_s=build_s,
            load_s=load_s,
            memory_mb=path.stat().st_size / 1e6,
            recall=recall,
            recall_held_out=recall_held_out,
            dense_ms=dense_ms,
        )

    def answers(self, prepared: list[Prepared], questions: list[str]) -> None:
        """Milliseconds per question for each desk, from the question to its formatted
        answer. The desks take turns by blocks of ``plan.answer_block`` questions, starting
        from a different one each block; the first answer of a desk's block is not timed."""
        buffer = io.StringIO()
        console = Console(file=buffer, width=100, color_system=None, force_terminal=False)
        for one in prepared:
            for question in questions[: self.plan.warmup_asks]:
                one.desk.ask(question)  # a desk's first answers warm its caches
        asked = [q for _ in range(self.plan.repeats) for q in questions]
        size = max(2, self.plan.answer_block)
        # Each block starts with the last question of the one before, untimed: the others
        # are each timed once.
        blocks = [asked[max(0, at - 1) : at + size - 1] for at in range(0, len(asked), size - 1)]
        deadline = time.perf_counter() + self.plan.answer_seconds
        for turn, block in enumerate(blocks):
            if time.perf_counter() > deadline:
                break
            shift = turn % len(prepared)
            for one in prepared[shift:] + prepared[:shift]:
                for number, question in enumerate(block):
                    started = time.perf_counter()
                    terminal.print_answer(console, one.desk.ask(question))
                    if number:
                        one.answers_ms.append((time.perf_counter() - started) * 1000)
                    buffer.seek(0)
                    buffer.truncate()

    def kind_rows(
        self,
        section: str,
        size: int,
        one: Prepared,
        exact: Prepared,
        auto: str,
        shared: Shared,
        queries: int,
        questions: int,
    ) -> None:
        p50, p99 = _p(one.answers_ms, 50), _p(one.answers_ms, 99)
        exact_p50, exact_p99 = _p(exact.answers_ms, 50), _p(exact.answers_ms, 99)
        kind = one.kind
        chosen = " (chosen)" if kind == auto else ""
        self.log(
            f"{section}: {one.described}{chosen}: built in {one.build_s:.1f} s, "
            f"{one.memory_mb:,.0f} MB, recall@10 {one.recall:.3f} (questions), "
            f"{one.recall_held_out:.3f} (held-out passages), answers p50 {p50:.1f} ms "
            f"p99 {p99:.1f} ms (desk loaded in {one.load_s:.1f} s)"
        )
        at_goal = size >= 1_000_000 and kind == auto
        name = f"{kind}{chosen}"
        baseline = "flat (exact search), same size"
        breakdown = (
            f"{len(one.answers_ms)} answers; alone at p50: encode {shared.encode_ms:.1f}, dense "
            f"{one.dense_ms:.2f}, BM25 {shared.lexical_ms:.1f}, store {shared.store_ms:.1f} ms"
        )

        def goal(limit: float, unit: str, value: float) -> tuple[str, bool | None]:
            if not at_goal:
                return "", None
            return f"<= {limit:.0f} {unit}", value <= limit

        add = self.report.add
        target, met = goal(TARGET_P50_MS, "ms", p50)
        add(
            Row(
                section,
                f"{name}: answer p50",
                p50,
                "ms",
                baseline,
                exact_p50,
                target=target,
                met=met,
                note=breakdown,
            )
        )
        target, met = goal(TARGET_P99_MS, "ms", p99)
        add(
            Row(
                section,
                f"{name}: answer p99",
                p99,
                "ms",
                baseline,
                exact_p99,
                target=target,
                met=met,
            )
        )
        target, met = goal(TARGET_MEMORY_MB, "MB", one.memory_mb)
        add(
            Row(
                section,
                f"{name}: dense index memory",
                one.memory_mb,
                "MB",
                baseline,
                exact.memory_mb,
                target=target,
                met=met,
                note=f"{one.described}; BM25 beside it: {shared.bm25_mb:,.0f} MB mapped",
            )
        )
        for recall, what, count in (
            (one.recall, "questions", questions),
            (one.recall_held_out, "held-out passages", queries - questions),
        ):
            add(
                Row(
                    section,
                    f"{name}: recall@10 vs exact, {what}",
                    recall,
                    "",
                    baseline,
                    1.0,
                    better="higher",
                    target=f">= {TARGET_RECALL}" if kind != FLAT else "",
                    met=recall >= TARGET_RECALL if kind != FLAT else None,
                    note=f"{count} {what}",
                )
            )
        add(
            Row(
                section,
                f"{name}: build",
                one.build_s,
                "s",
                baseline,
                exact.build_s,
                note=f"search alone p50 {one.dense_ms:.2f} ms vs {exact.dense_ms:.2f} ms; "
                f"a desk loads it in {one.load_s:.1f} s",
            )
        )
        self.report.points.append(
            Point(kind, size, p50, p99, one.memory_mb, one.recall, one.build_s)
        )

    def bm25s_baseline(self, section: str, store: Store) -> None:
        """bm25s's own tokenize and index over the same texts, against ours."""
        import bm25s

        from retrieval.passages import lexical_text
        from retrieval.words import tokenize

        texts = [lexical_text(title, text) for _, title, text in store.passage_texts()]
        ids = np.arange(len(texts))
        started = time.perf_counter()
        LexicalIndex.build(ids, texts)
        ours = time.perf_counter() - started
        started = time.perf_counter()
        reference = bm25s.BM25()
        reference.index(tokenize(texts), show_progress=False)
        theirs = time.perf_counter() - started
        self.report.add(
            Row(
                section,
                f"BM25 build, {len(texts):,} texts in memory",
                ours,
                "s",
                "bm25s tokenize + index, same texts",
                theirs,
                note="same scores, checked by the tests",
            )
        )

    def home(self, size: int, store: Store, questions: list[str]) -> None:
        """The Home tab built as its listener builds it, cold and warm (bot/bench/home.py)."""
        section = f"home {label(size)}"
        self.log(f"{section}: the Home tab, cold (summary not kept yet) and warm")
        home.bench_home(
            section,
            label(size),
            open_desk=lambda: self.desk("scale", store=store),
            questions=questions,
            k=self.config.default_k,
            add=self.report.add,
            log=self.log,
            runs=self.plan.cold_runs + 2,
        )

    def change(
        self,
        size: int,
        store: Store,
        pool: fill.RealPool,
        questions: list[str],
        recall_queries: np.ndarray,
    ) -> None:
        """Small changes ingested while a replica answers (bot/bench/changes.py), on the store
        and the index files the query stage left."""
        section = f"change {label(size)}"
        plan = self.plan
        self.log(
            f"{section}: adds and removes of {plan.change_passages:,} passages while a replica "
            f"answers {changes.RATE:g} questions a second"
        )
        changes.bench_changes(
            section,
            store=store,
            data_dir=self.work / "scale",
            work=self.work / "changes",
            encoder=self.encoder,
            config=self.config,
            pool=pool,
            questions=questions,
            recall_queries=recall_queries,
            plan=changes.ChangePlan(plan.change_passages, plan.change_rounds, plan.change_seconds),
            models=self.models,
            env=self.child_env,
            add=self.report.add,
            log=self.log,
            encoder_class=self.replica_encoder,
        )

    # 4. Serve

    def serve(self, size: int, questions: list[str]) -> None:
        section = f"serve {label(size)}"
        secret = secrets.token_hex(16)
        self.log(f"{section}: `quotedesk serve` launch to /healthz 200")
        with StandIn() as slack:
            env = {
                **self.child_env,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": slack.api_url,
            }
            with serve_process(
                log=self.work / "serve.log",
                env=procs.child_env(env),
                args=["--data-dir", str(self.work / "scale"), "--workers", "1"],
                healthy_within=SERVE_WITHIN_S,
                stop_within=15,
            ) as served:
                ready_s, rss_mb = served.ready_seconds or 0.0, served.rss_kib() / 1024
                self.report.add(
                    Row(
                        section,
                        f"`quotedesk serve` launch to /healthz 200, {size:,} passages",
                        ready_s,
                        "s",
                        "bare encoder process",
                        getattr(self, "bare_s", None),
                        target=f"<= {TARGET_SERVE_S:.0f} s",
                        met=ready_s <= TARGET_SERVE_S,
                    )
                )
                self.report.add(
                    Row(
                        section,
                        "`quotedesk serve` resident memory (master + worker)",
                        rss_mb,
                        "MB",
                        "bare encoder process",
                        getattr(self, "bare_rss", None),
                    )
                )
                plan = self.plan
                self.log(
                    f"{section}: {plan.events} signed events at concurrency "
                    f"{plan.concurrency}; /healthz baseline"
                )
                health = load.fire(
                    served.port,
                    load.health_requests(),
                    concurrency=plan.concurrency,
                    count=plan.events,
                    seconds=plan.event_seconds,
                )
                slack.clear()
                events = load.fire(
                    served.port,
                    load.mention_requests(questions, secret=secret),
                    concurrency=plan.concurrency,
                    count=plan.events,
                    seconds=plan.event_seconds,
                )
                posted_in_window = len(slack.find("chat.postMessage"))
                slack.wait_idle(quiet=1.0, timeout=plan.event_seconds)
                drained = len(slack.find("chat.postMessage"))
                self.report.add(
                    Row(
                        section,
                        f"signed events acknowledged per second, concurrency {plan.concurrency}",
                        events.per_second,
                        "/s",
                        "GET /healthz per second, same concurrency",
                        health.per_second,
                        better="higher",
                        note=f"{events.ok} of {events.sent} answered 200 in "
                        f"{events.seconds:.1f} s; "
                        f"{posted_in_window} answers posted meanwhile, {drained} in all",
                    )
                )
                self.report.add(
                    Row(
                        section,
                        "signed event: p99 time to HTTP response",
                        events.percentile(99),
                        "ms",
                        "GET /healthz p99, same concurrency",
                        health.percentile(99),
                        target=f"<= {TARGET_EVENT_P99_MS:.0f} ms",
                        met=events.percentile(99) <= TARGET_EVENT_P99_MS,
                        note=f"p50 {events.percentile(50):.0f} vs {health.percentile(50):.0f} ms",
                    )
                )

    # All of it

    def run(self) -> Report:
        """Every stage in turn. A stage that fails is named in the notes (and ``failed``) and
        the next one runs: a long run still reports what it measured."""
        if self.plan.newsroom is not None:
            newsroom = self.plan.newsroom
            self.stage(
                "newsroom",
                lambda: formats.newsroom(
                    newsroom, desk=self.desk, add=self.report.add, log=self.log
                ),
            )
        else:
            source = self.stage("ingest", self.ingest)
            self.stage("start-up", self.startup)
            if source is not None:
                self.stage("scale", lambda: self.scale(source))
        self.report.seconds = time.perf_counter() - self.started
        self.log("done")
        return self.report

    def stage(self, name: str, run: Callable[[], R]) -> R | None:
        try:
            return run()
        except Exception as exc:  # a bench reports what it could measure
            self.failed.append(name)
            message = f"the {name} stage failed: {exc.__class__.__name__}: {exc}"
            self.report.notes.append(message)
            self.log(message)
            return None


def baseline_sample(blocks: list[str], size: int | None) -> list[str]:
    """``size`` of ``blocks`` drawn at random with a fixed seed (all of them when ``None`` or
    when there are no more), in their order."""
    if size is None or size >= len(blocks):
        return blocks
    import random

    picked = sorted(random.Random(0).sample(range(len(blocks)), size))
    return [blocks[i] for i in picked]


def plain_encode(texts: list[str]) -> float:
    """The baseline: the packaged model in sentence-transformers, fp32, as it comes; seconds
    to encode ``texts`` (the model loaded and warm before the clock starts)."""
    offline.prepare()  # before sentence-transformers, and so huggingface_hub, is imported
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(packaged_model_path()), device="cpu", local_files_only=True)
    model.encode(texts[:8])  # loaded and warm before the clock, as the ingest's encoder is
    started = time.perf_counter()
    model.encode(texts, show_progress_bar=False)
    return time.perf_counter() - started


def describe_encoder(encoder: Encoder) -> str:
    kind = type(encoder)
    return f"{encoder.name} ({kind.__module__}.{kind.__qualname__})"


def bm25s_search(index: LexicalIndex, query: str, k: int) -> object:
    """The search the index did before: bm25s.retrieve on the same arrays."""
    from retrieval.words import tokenize

    if index.scores is None:
        return None
    return index.scores.bm25s_retrieve(tokenize([query])[0], k)


def label(size: int) -> str:
    """``10k``, ``1M``: a corpus size as the tables name it."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return f"{size:,}"


def _timed(call: Callable[[], R]) -> tuple[R, float]:
    """What ``call`` returns, and the seconds it took."""
    started = time.perf_counter()
    return call(), time.perf_counter() - started


def _times(call: Callable[[T], object], items: Sequence[T]) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _corpus_files(folder: Path) -> Iterator[Path]:
    from retrieval.documents import scan_corpus

    for path, problem in scan_corpus(folder):
        if not problem:
            yield path


@contextlib.contextmanager
def work_dir(given: Path | None) -> Iterator[Path]:
    """The bench's files: ``given`` (kept), else a temporary folder removed after."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="quotedesk-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stderr_say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
