"""The bench's change step: small corpus changes made while a replica answers questions.

The *replica* is a process of its own (``python -m bot.bench.changes``) holding a
:class:`~retrieval.engine.QuoteDesk` on the bench's database but on a data directory of its
own (a copy of the index files the scale stage left there). From a thread it asks the bench's
questions at a steady rate (:data:`RATE` a second), and records each answer's time, the
corpus version its indexes were at, and which of the changed documents it quoted; another
thread notes when its indexes take in a new version. Meanwhile the bench process changes the
corpus through the normal ingest path (:func:`retrieval.ingest.ingest` of a folder into the
collection :data:`COLLECTION`, ``--prune`` to remove), as another process ingesting would:

1. **add** ``passages`` passages in new documents, each of which carries a phrase of its own
   (a coined name: "the Kaloru Observatory"), so that a question only they answer (asked by
   the replica beside the others) tells when it quotes them: the answers' p99 from the
   ingest's commit until the replica's indexes include it, against their p99 before any
   change; the time from the commit to the first answer quoting a new document; errors.
2. **remove** them (their files deleted, the folder ingested with ``prune``): no answer from
   the indexes that include the removal quotes one, the questions aimed at them included.
3. up to ``rounds`` more such changes in a row, adds and removes in turn, within the step's
   time budget; then the dense index the replica answers from (saved by it) against exact
   search over the store: recall@10, as the scale stage measures it, and what the desk says
   of its index builds (``last_index_seconds``, and any attribute naming a rebuild or a
   retrain, read as found).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import pickle
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from bot.bench import procs
from bot.bench.report import Row
from bot.bench.vectors import read_vectors, recall_at

if TYPE_CHECKING:
    from bot.bench.fill import RealPool
    from retrieval.embedder import Encoder
    from retrieval.engine import QuoteDesk
    from retrieval.store import Store
    from retrieval.tuning import RetrievalConfig

TARGET_CHANGE_P99_MS = 100.0
TARGET_VISIBLE_S = 30.0
TARGET_RECALL = 0.95
# Questions the replica asks a second, from one thread.
RATE = 20.0
# The collection the changes go into (the folder is ingested with --collection).
COLLECTION = "bench-changes"
# Each new document: a title line and this many paragraphs of this many words (each a passage
# of its own: about 90 word pieces, two would pass the 128 a passage is packed to).
PASSAGES_PER_DOCUMENT = 20
PARAGRAPH_WORDS = 70
# Questions aimed at a change's documents the replica asks in turn (every other question).
PROBES = 10
# Lines of the replica's protocol on its stdout (anything else there is passed over).
MARK = "@@quotedesk-bench-replica "
# The replica loads its indexes before it is ready (builds them, at a million, if no file was
# there to copy); a command is answered at once, but for ``wait``.
READY_WITHIN = 900.0
REPLY_WITHIN = 120.0
# How often the bench looks for the ingest's commit, and the replica for its indexes' version.
POLL_S = 0.005


@dataclass(frozen=True)
class ChangePlan:
    """How much the step changes, and its time budget (``seconds``, the replica's start and
    the recall measured at the end included): the changes after the first two stop when the
    next one would not fit."""

    passages: int = 1_000
    rounds: int = 20
    seconds: float = 480.0
    rate: float = RATE

    @property
    def documents(self) -> int:
        return max(1, round(self.passages / PASSAGES_PER_DOCUMENT))

    @property
    def baseline_seconds(self) -> float:
        """Answers before any change: the baseline's."""
        return min(10.0, self.seconds / 10)

    @property
    def linger_seconds(self) -> float:
        """Answers after each swap, before the next change."""
        return min(1.0, self.seconds / 60)

    @property
    def swap_within(self) -> float:
        """A change the replica's indexes have not taken in by then ends the step."""
        return max(60.0, self.seconds)


# The documents of a change


SYLLABLES = (
    "ka", "lo", "ve", "ru", "mi", "tas", "nor", "qui", "zel", "bra", "dun", "fe",
    "gor", "hal", "ix", "jo", "mer", "pol", "sen", "tov", "ul", "wyn", "yar", "zo",
)  # fmt: skip


def coined(number: int) -> str:
    """A made-up word, a different one for each number below 24 ** 3.

    Example:
        >>> coined(0), coined(1), coined(24 * 24 * 3 + 5)
        ('Kakaka', 'Lokaka', 'Taskaru')
    """
    parts = []
    for _ in range(3):
        number, at = divmod(number, len(SYLLABLES))
        parts.append(SYLLABLES[at])
    return "".join(parts).capitalize()


@dataclass(frozen=True)
class Batch:
    """The documents one add wrote: their folder (under the ingested one) and a question
    only each of them answers."""

    folder: str
    questions: tuple[str, ...]


class Writer:
    """Writes the new documents of each add: a title naming the document's observatory, a
    first paragraph saying how many comets it counted, then paragraphs of the real corpus's
    words at their real frequencies (as the synthetic passages of the fill are made)."""

    def __init__(self, root: Path, pool: RealPool, documents: int, *, seed: int = 5):
        self.root = root
        self.documents = documents
        self.words = np.asarray(pool.words)
        self.word_p = pool.word_p
        self._rng = np.random.default_rng(seed)
        self._written = 0

    def write(self) -> Batch:
        number = self._written // self.documents
        folder = self.root / f"round-{number:03d}"
        folder.mkdir(parents=True)
        questions = []
        for _ in range(self.documents):
            at = self._written
            self._written += 1
            name, place = coined(at), coined(at + 7_000)
            first = (
                f"Astronomers at the {name} Observatory counted {100 + at} violet comets above "
                f"the {place} valley this spring."
            )
            paragraphs = [f"{first} {self._words(PARAGRAPH_WORDS - len(first.split()))}"]
            paragraphs += [self._words(PARAGRAPH_WORDS) for _ in range(PASSAGES_PER_DOCUMENT - 1)]
            title = f"The {name} Observatory counts violet comets"
            text = "\n\n".join([title, *paragraphs]) + "\n"
            (folder / f"{name.lower()}.txt").write_text(text, encoding="utf-8")
            questions.append(
                f"how many violet comets did astronomers at the {name} Observatory count?"
            )
        return Batch(folder.name, tuple(questions))

    def _words(self, count: int) -> str:
        picked = self._rng.choice(len(self.words), size=max(1, count), p=self.word_p)
        return " ".join(self.words[picked].tolist()) + "."


# The replica (its own process)


def index_version(desk: QuoteDesk) -> str | None:
    """The corpus version of the indexes ``desk`` answers from now."""
    return getattr(getattr(desk, "_index", None), "version", None)


def desk_facts(desk: QuoteDesk) -> dict[str, Any]:
    """What the desk says of its index builds: its public attributes naming an index, a
    rebuild or a retrain (``last_index_seconds``, ``last_index_rebuild``, ...), as found."""
    facts: dict[str, Any] = {}
    for name in dir(desk):
        if name.startswith("_") or not any(w in name for w in ("index", "rebuild", "retrain")):
            continue
        value = getattr(desk, name, None)
        if callable(value):
            continue
        if value is None or isinstance(value, bool | int | float | str):
            facts[name] = value
        else:
            facts[name] = repr(value)[:200]
    return facts


class Answering:
    """The replica's questions at a steady rate (one thread), and its indexes' versions
    watched (another)."""

    def __init__(self, desk: QuoteDesk, questions: Sequence[str], rate: float, collection: str):
        self.desk = desk
        self.questions = list(questions)
        self.interval = 1.0 / rate
        self.collection = collection
        # [start (monotonic s), ms, version before, version after, kind, error, quoted paths]
        self.records: list[list[Any]] = []
        self.swaps: list[dict[str, Any]] = []
        self.late = 0
        self.version = index_version(desk)
        self._probes: tuple[str, ...] = ()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._threads = [
            threading.Thread(target=self._ask, name="replica-asks", daemon=True),
            threading.Thread(target=self._watch, name="replica-watch", daemon=True),
        ]

    def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        do = command["do"]
        if do == "start":
            for thread in self._threads:
                thread.start()
            return {"started": time.monotonic()}
        if do == "probe":
            self._probes = tuple(command["questions"])
            return {}
        if do == "wait":
            wanted = command["version"]
            with self._changed:
                ok = self._changed.wait_for(lambda: self.version == wanted, command["timeout"])
                swap = next((s for s in reversed(self.swaps) if s["version"] == wanted), None)
            # (No swap seen: the indexes were at that version already.)
            when = swap["t"] if swap else time.monotonic()
            return {"ok": ok, "t": when, "desk": desk_facts(self.desk)}
        if do == "dump":
            return self._dump(Path(command["path"]))
        if do == "stop":
            self._stop.set()
            for thread in self._threads:
                if thread.is_alive():
                    thread.join(REPLY_WITHIN)
            data = {"records": list(self.records), "swaps": self.swaps, "late": self.late}
            Path(command["path"]).write_text(json.dumps(data), encoding="utf-8")
            return {"records": len(self.records)}
        raise ValueError(f"unknown command {do!r}")

    def _ask(self) -> None:
        from rich.console import Console

        from bot import terminal

        buffer = io.StringIO()
        console = Console(file=buffer, width=100, color_system=None, force_terminal=False)
        asked = probed = 0
        due = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < due:
                self._stop.wait(due - now)
                continue
            probes = self._probes
            if probes and (asked + probed) % 2:
                question, kind = probes[probed % len(probes)], "probe"
                probed += 1
            else:
                question, kind = self.questions[asked % len(self.questions)], "question"
                asked += 1
            before = index_version(self.desk)
            started = time.monotonic()
            error, quoted = None, []
            try:
                answer = self.desk.ask(question)
                terminal.print_answer(console, answer)  # as the scale stage times an answer
                sources = [q.source for q in answer.quotes] + list(answer.related)
                quoted = sorted({s.path for s in sources if s.collection == self.collection})
            except Exception as exc:  # counted, and the next question asked
                error = f"{exc.__class__.__name__}: {exc}"[:300]
            finally:
                buffer.seek(0)
                buffer.truncate()
            done = time.monotonic()
            after = index_version(self.desk)
            self.records.append(
                [started, (done - started) * 1000, before, after, kind, error, quoted]
            )
            due += self.interval
            if due < done:  # fell behind: the next question now, no burst to catch up
                self.late += 1
                due = done

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            version = index_version(self.desk)
            if version != self.version:
                facts = desk_facts(self.desk)
                with self._changed:
                    self.version = version
                    self.swaps.append({"t": time.monotonic(), "version": version, "desk": facts})
                    self._changed.notify_all()

    def _dump(self, path: Path) -> dict[str, Any]:
        """Save the dense index the desk answers from now (or its file in the data dir)."""
        from retrieval.search import dense
        from retrieval.search.dense import VectorIndex

        version = index_version(self.desk)
        loaded = getattr(getattr(self.desk, "_index", None), "dense", None)
        if isinstance(loaded, VectorIndex):
            loaded.save(path)
        else:
            shutil.copy2(dense.index_path(self.desk.settings.data_dir, version), path)
            loaded = VectorIndex.load(path, config=self.desk.config)
        return {"version": version, "size": loaded.size, "described": loaded.describe()}


def replica_main(argv: Sequence[str] | None = None) -> int:
    """The replica: a desk loaded, then commands read from stdin (one JSON object a line),
    each answered on stdout (a line starting with :data:`MARK`), until ``stop``."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench.changes")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--config", required=True, help="a pickled RetrievalConfig")
    parser.add_argument("--questions", required=True, help="a JSON list of questions")
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--collection", default=COLLECTION)
    parser.add_argument("--encoder", help="module:Class of an encoder to make (a test's fake)")
    args = parser.parse_args(argv)

    from retrieval.engine import QuoteDesk
    from retrieval.settings import Settings

    def say(reply: dict[str, Any]) -> None:
        sys.stdout.write(MARK + json.dumps(reply) + "\n")
        sys.stdout.flush()

    started = time.monotonic()
    settings = Settings.resolve(
        data_dir=args.data_dir, database_url=args.database_url, model_cache=args.models
    )
    config = pickle.loads(Path(args.config).read_bytes())
    encoder = None
    if args.encoder:
        module, _, name = args.encoder.partition(":")
        encoder = getattr(importlib.import_module(module), name)()
    desk = QuoteDesk(settings, config=config, encoder=encoder)
    desk.warm()
    loaded_s = time.monotonic() - started
    questions = json.loads(Path(args.questions).read_text(encoding="utf-8"))
    for question in questions[:3]:
        desk.ask(question)  # its first answers warm its caches
    answering = Answering(desk, questions, args.rate, args.collection)
    say({"ready": True, "load_s": loaded_s, "version": index_version(desk)})
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        say(answering.handle(command))
        if command["do"] == "stop":
            break
    return 0


# The bench's side


class Replica:
    """The replica's process, started by the bench: commands sent, replies waited for
    (bounded); its stderr in ``log``."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str], log: Path):
        self.log = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.bench.changes", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
        )
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="replica-replies", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout: IO[bytes] | None = self.proc.stdout
        assert stdout is not None
        for raw in stdout:
            line = raw.decode("utf-8", "replace")
            if line.startswith(MARK):
                self._replies.put(json.loads(line[len(MARK) :]))
        self._replies.put(None)

    def receive(self, within: float) -> dict[str, Any]:
        try:
            reply = self._replies.get(timeout=within)
        except queue.Empty:
            raise TimeoutError(f"the replica did not answer within {within:.0f} s") from None
        if reply is None:
            self.proc.wait(10)
            raise RuntimeError(f"the replica exited ({self.proc.returncode}): {self.tail()}")
        return reply

    def request(self, do: str, *, within: float = REPLY_WITHIN, **fields: Any) -> dict[str, Any]:
        stdin = self.proc.stdin
        assert stdin is not None
        try:
            stdin.write((json.dumps({"do": do, **fields}) + "\n").encode())
            stdin.flush()
        except OSError:
            raise RuntimeError(f"the replica is gone: {self.tail()}") from None
        return self.receive(within)

    def tail(self) -> str:
        self._log.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def replica(args: Sequence[str], *, env: dict[str, str], log: Path) -> Iterator[Replica]:
    started = Replica(args, env=env, log=log)
    try:
        yield started
    finally:
        started.close()


def copy_indexes(data_dir: Path, into: Path, version: str | None) -> int:
    """Copy the index files of ``version`` (the FAISS file, the BM25 folder: each named for
    it) from ``data_dir`` into ``into``; how many were copied."""
    into.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(data_dir.glob(f"*-{version or 'empty'}*")):
        if path.is_dir():
            shutil.copytree(path, into / path.name)
        else:
            shutil.copy2(path, into / path.name)
        copied += 1
    return copied


class CommitWatch:
    """When the corpus version in ``store`` leaves ``before``: the ingest's commit (looked for
    every :data:`POLL_S` on a thread while the ingest runs)."""

    def __init__(self, store: Store, before: str | None):
        self.store = store
        self.before = before
        self.seen: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-commit", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if self.store.corpus_version() != self.before:
                self.seen = time.monotonic()
                return

    def stop(self) -> float | None:
        self._stop.set()
        self._thread.join()
        return self.seen


@dataclass
class Change:
    """One change: what it did, and when (monotonic seconds, the replica's clock too)."""

    number: int
    step: int
    kind: str  # "add" or "remove"
    folder: str
    passages: int
    documents: int
    version: str | None
    ingest_s: float
    encoded: int
    commit: float
    swap: float | None
    end: float
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def visible_s(self) -> float | None:
        """From the commit until the replica's indexes include it."""
        return None if self.swap is None else self.swap - self.commit

    @property
    def window_end(self) -> float:
        return self.end if self.swap is None else self.swap


@dataclass(frozen=True)
class Answered:
    """One of the replica's answers."""

    t: float
    ms: float
    before: str | None
    after: str | None
    kind: str
    error: str | None
    quoted: tuple[str, ...]

    @property
    def end(self) -> float:
        return self.t + self.ms / 1000

    def quotes_from(self, folder: str) -> bool:
        return any(path.startswith(folder + "/") for path in self.quoted)


def bench_changes(
    section: str,
    *,
    store: Store,
    data_dir: Path,
    work: Path,
    encoder: Encoder,
    config: RetrievalConfig,
    pool: RealPool,
    questions: Sequence[str],
    recall_queries: np.ndarray,
    plan: ChangePlan,
    models: Path,
    env: dict[str, str],
    add: Callable[[Row], object],
    log: Callable[[str], None],
    encoder_class: str | None = None,
) -> list[Change]:
    """Run the step on ``store`` (whose index files are in ``data_dir``) and add its rows.

    Args:
        work: The step's folder (emptied first): the replica's data dir, the documents.
        recall_queries: The encoded ``questions``, then held-out passages (the scale
            stage's), for recall@10 at the end.
        encoder_class: ``module:Class`` of the encoder the replica makes (a test's fake);
            ``None``: the one its settings name, as a bot's.
    """
    from retrieval.ingest import ingest

    started = time.monotonic()
    shutil.rmtree(work, ignore_errors=True)
    corpus, replica_dir = work / "corpus", work / "replica"
    corpus.mkdir(parents=True)
    copied = copy_indexes(data_dir, replica_dir, store.corpus_version())
    (work / "config.pickle").write_bytes(pickle.dumps(config))
    (work / "questions.json").write_text(json.dumps(list(questions)), encoding="utf-8")
    args = [
        "--data-dir", str(replica_dir),
        "--database-url", store.url,
        "--models", str(models),
        "--config", str(work / "config.pickle"),
        "--questions", str(work / "questions.json"),
        "--rate", str(plan.rate),
        "--collection", COLLECTION,
    ]  # fmt: skip
    if encoder_class:
        args += ["--encoder", encoder_class]
    writer = Writer(corpus, pool, plan.documents)
    base_version = store.corpus_version()
    changes: list[Change] = []
    with replica(args, env=procs.child_env(env), log=work / "replica.log") as other:
        ready = other.receive(READY_WITHIN)
        how = f"{copied} index files copied" if copied else "no index file to copy: built"
        log(f"{section}: replica ready in {ready['load_s']:.1f} s ({how}); asking {plan.rate:g}/s")
        other.request("start")
        baseline_from = time.monotonic()
        time.sleep(plan.baseline_seconds)
        baseline_to = time.monotonic()
        batch: Batch | None = None
        planned = 2 + plan.rounds
        # Kept for the recall at the end (and the replica's stop).
        reserve = 0.1 * plan.seconds
        for number in range(planned):
            step = 1 if number == 0 else 2 if number == 1 else 3
            kind = "add" if number % 2 == 0 else "remove"
            if step == 3:
                # An add only with room for its removal after it: the corpus ends as it began.
                longest = max(c.end - c.commit + c.ingest_s for c in changes)
                need = longest * (2 if kind == "add" and number + 1 < planned else 1)
                if time.monotonic() - started + need + reserve > plan.seconds:
                    log(f"{section}: {number - 2} of {plan.rounds} more changes fit the budget")
                    break
            if kind == "add":
                batch = writer.write()
            assert batch is not None
            if kind == "remove":
                shutil.rmtree(corpus / batch.folder)
            other.request("probe", questions=list(batch.questions[:PROBES]))
            before, count = store.corpus_version(), store.passage_count()
            watch = CommitWatch(store, before)
            ingest_from = time.monotonic()
            report = ingest(
                corpus, store=store, encoder=encoder, prune=kind == "remove", collection=COLLECTION
            )
            ingested = time.monotonic()
            commit = watch.stop() or ingested
            version = store.corpus_version()
            waited = other.request(
                "wait",
                within=plan.swap_within + REPLY_WITHIN,
                version=version,
                timeout=plan.swap_within,
            )
            if waited["ok"]:
                time.sleep(plan.linger_seconds)
            change = Change(
                number=number + 1,
                step=step,
                kind=kind,
                folder=batch.folder,
                passages=abs(report.passages - count),
                documents=report.added or report.removed,
                version=version,
                ingest_s=ingested - ingest_from,
                encoded=report.encoded,
                commit=commit,
                swap=waited["t"] if waited["ok"] else None,
                end=time.monotonic(),
                facts=waited["desk"],
            )
            changes.append(change)
            seen = f"not within {plan.swap_within:.0f} s" if change.swap is None else ""
            log(
                f"{section}: change {change.number} ({kind} {change.passages:,} passages, "
                f"{change.documents} documents): ingest {change.ingest_s:.1f} s, commit to the "
                f"replica's indexes {seen or f'{change.visible_s:.2f} s'}"
            )
            if change.swap is None:
                break
        dumped = other.request("dump", path=str(work / "replica.faiss"))
        other.request("stop", path=str(work / "answers.json"))
    data = json.loads((work / "answers.json").read_text(encoding="utf-8"))
    answers = [
        Answered(t, ms, before, after, kind, error, tuple(quoted))
        for t, ms, before, after, kind, error, quoted in data["records"]
    ]
    baseline = [a.ms for a in answers if baseline_from <= a.t < baseline_to]
    measured = Measured(changes, answers, baseline, [base_version] + [c.version for c in changes])
    for row in measured.rows(section, plan, late=data["late"]):
        add(row)
    recall = replica_recall(
        store, work / "replica.faiss", config, recall_queries, len(questions), encoder.dimension
    )
    for row in recall_rows(section, changes, plan, dumped, recall):
        add(row)
    log(
        f"{section}: {len(changes)} changes, {len(answers):,} answers in "
        f"{time.monotonic() - started:.0f} s; recall@10 after them {recall[0]:.3f} (questions)"
    )
    shutil.rmtree(replica_dir, ignore_errors=True)  # a second copy of the indexes
    return changes


@dataclass
class Measured:
    """The replica's answers read against the changes."""

    changes: list[Change]
    answers: list[Answered]
    baseline_ms: list[float]
    versions: list[str | None]

    def during(self, changes: Sequence[Change]) -> list[float]:
        """Milliseconds of the answers under way at some moment from a change's commit until
        the replica's indexes included it."""
        return [
            a.ms for c in changes for a in self.answers if a.t < c.window_end and a.end > c.commit
        ]

    def first_quote_s(self, change: Change) -> float | None:
        """From the commit to the end of the first answer quoting one of the new documents."""
        ends = [
            a.end for a in self.answers if a.end >= change.commit and a.quotes_from(change.folder)
        ]
        return min(ends) - change.commit if ends else None

    def after_swap(self, change: Change) -> list[Answered]:
        """The answers from indexes that include ``change`` (or a later one)."""
        order = {v: i for i, v in enumerate(self.versions)}
        at = order[change.version]
        return [a for a in self.answers if order.get(a.before, -1) >= at]

    def rows(self, section: str, plan: ChangePlan, *, late: int) -> list[Row]:
        before = _p(self.baseline_ms, 99)
        baseline_name = "answer p99 before any change"
        found: list[Row] = []

        def p99_row(name: str, changes: Sequence[Change], note: str) -> Row:
            during = self.during(changes)
            p99 = _p(during, 99)
            spans = sum(c.window_end - c.commit for c in changes)
            return Row(
                section,
                name,
                p99,
                "ms",
                baseline_name,
                before,
                target=f"<= {TARGET_CHANGE_P99_MS:.0f} ms",
                met=bool(during) and p99 <= TARGET_CHANGE_P99_MS,
                note=f"{_answers(len(during))} in {spans:.1f} s, p50 {_p(during, 50):.1f} ms vs "
                f"{_p(self.baseline_ms, 50):.1f} ms ({len(self.baseline_ms)} answers before); "
                + note,
            )

        first = self.changes[0]
        facts = _facts(first.facts)
        found.append(
            p99_row(
                f"add {first.passages:,} passages ({first.documents} new documents): answer p99 "
                "from the commit until the replica's indexes include it",
                [first],
                f"commit to the replica's indexes {_s(first.visible_s)}{facts}",
            )
        )
        quoted = self.first_quote_s(first)
        found.append(
            Row(
                section,
                "add: commit to the replica's first answer quoting a new document",
                quoted,
                "s",
                "commit to the replica's indexes including it",
                first.visible_s,
                target=f"<= {TARGET_VISIBLE_S:.0f} s",
                met=quoted is not None and quoted <= TARGET_VISIBLE_S,
                note=f"questions on the new documents' phrases asked every {2 / plan.rate:.1f} "
                f"s; the ingest before the commit {first.ingest_s:.1f} s ({first.encoded:,} "
                "passages encoded)" + ("" if quoted is not None else "; no answer quoted one"),
            )
        )
        errors = [a for a in self.answers if a.error]
        found.append(
            Row(
                section,
                "questions that failed, through every change",
                len(errors),
                "answers",
                "questions asked",
                len(self.answers),
                target="0",
                met=not errors,
                note=f"{plan.rate:g} a second from one thread, {late} started late"
                + (f"; first: {errors[0].error}" if errors else ""),
            )
        )
        if len(self.changes) > 1:
            removal = self.changes[1]
            after = self.after_swap(removal) if removal.swap is not None else []
            bad = [a for a in after if a.quotes_from(removal.folder)]
            aimed = sum(a.kind == "probe" for a in after)
            found.append(
                Row(
                    section,
                    f"remove those {removal.passages:,} passages: answers quoting one, from the "
                    "indexes that include the removal",
                    len(bad),
                    "answers",
                    "answers from those indexes",
                    len(after),
                    target="0",
                    met=removal.swap is not None and not bad,
                    note=f"{aimed:,} of them asked for the removed documents' phrases"
                    + ("" if removal.swap is not None else "; the removal was not taken in"),
                )
            )
            found.append(
                p99_row(
                    "remove: answer p99 from the commit until the replica's indexes include it",
                    [removal],
                    f"commit to the replica's indexes {_s(removal.visible_s)}"
                    f"{_facts(removal.facts)}",
                )
            )
        more = [c for c in self.changes if c.step == 3]
        if more:
            visible = [c.visible_s for c in more if c.visible_s is not None]
            firsts = [self.first_quote_s(c) for c in more if c.kind == "add"]
            removed_quotes = sum(
                a.quotes_from(c.folder)
                for c in more
                if c.kind == "remove" and c.swap is not None
                for a in self.after_swap(c)
            )
            short = (
                f"{len(more)} of {plan.rounds} planned (the rest would not fit the step's "
                f"{plan.seconds:.0f} s)"
                if len(more) < plan.rounds
                else f"all {plan.rounds} planned"
            )
            found.append(
                p99_row(
                    f"{len(more)} changes in a row (adds and removes of {more[0].passages:,} "
                    "passages in turn): answer p99 from each commit until the replica's indexes "
                    "include it",
                    more,
                    f"{short}; commit to indexes median {_s(_median(visible))}, longest "
                    f"{_s(max(visible, default=None))}; commit to a new document quoted: "
                    f"longest {_s(_max(firsts))}; answers quoting a removed passage after "
                    f"its removal: {removed_quotes}",
                )
            )
        return found


def replica_recall(
    store: Store,
    dumped: Path,
    config: RetrievalConfig,
    queries: np.ndarray,
    asked: int,
    dimension: int,
) -> tuple[float, float, int]:
    """recall@10 of the replica's dense index (saved at ``dumped``) against exact search over
    the store now, for the questions and the held-out passages (as the scale stage measures
    it); and how many passages the store holds."""
    from retrieval.search.dense import FLAT, VectorIndex

    ids, vectors = read_vectors(store, dimension)
    exact = VectorIndex.build(ids, vectors, kind=FLAT, config=config)
    del vectors
    truth = exact.search(queries, 10)[1]
    del exact
    found = VectorIndex.load(dumped, config=config).search(queries, 10)[1]
    return (
        recall_at(found[:asked], truth[:asked]),
        recall_at(found[asked:], truth[asked:]),
        len(ids),
    )


def recall_rows(
    section: str,
    changes: Sequence[Change],
    plan: ChangePlan,
    dumped: dict[str, Any],
    recall: tuple[float, float, int],
) -> list[Row]:
    questions, held_out, passages = recall
    seconds = [c.facts.get("last_index_seconds") for c in changes]
    timed = [s for s in seconds if isinstance(s, int | float)]
    builds = _builds(changes)
    held = f"it holds {dumped['size']:,} vectors, the store {passages:,} passages"
    rows = [
        Row(
            section,
            f"after {len(changes)} changes: the replica's dense index recall@10 vs exact, {what}",
            value,
            "",
            "exact search over the store now",
            1.0,
            better="higher",
            target=f">= {TARGET_RECALL}",
            met=value >= TARGET_RECALL,
            note=f"{dumped['described']}; {held}" if what == "questions" else "",
        )
        for what, value in (("questions", questions), ("held-out passages", held_out))
    ]
    rows.append(
        Row(
            section,
            f"the replica's index loads, builds or updates (desk.last_index_seconds), longest of "
            f"{len(timed)}",
            max(timed, default=None),
            "s",
            note=f"median {_s(_median(timed))}; {builds}",
        )
    )
    return rows


def _builds(changes: Sequence[Change]) -> str:
    """What the desk said of rebuilds and retrains across the changes, or that it says
    nothing of them."""
    said: list[str] = []
    names = sorted({n for c in changes for n in c.facts if n != "last_index_seconds"})
    for name in names:
        values = [c.facts.get(name) for c in changes]
        moved = [
            f"{value} from change {c.number} ({c.kind}) on"
            for c, value, last in zip(changes, values, [None, *values[:-1]], strict=True)
            if value is not None and value != last
        ]
        said.append(f"desk.{name}: " + ("; ".join(moved) if moved else "never set"))
    if not said:
        return "the desk names no rebuild or retrain (no last_index_rebuild): recall only"
    return "; ".join(said)


def _facts(facts: dict[str, Any]) -> str:
    seconds = facts.get("last_index_seconds")
    return f" (desk.last_index_seconds {seconds:.2f} s)" if isinstance(seconds, int | float) else ""


def _answers(count: int) -> str:
    return f"{count:,} answer" + ("" if count == 1 else "s")


def _p(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _max(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


if __name__ == "__main__":
    sys.exit(replica_main())
