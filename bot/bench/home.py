"""The bench's Home tab step: the time to build a person's Home tab as the ``app_home_opened``
listener builds it (:func:`bot.slack.listeners.events.publish_home`, without the Web API call):
``desk.summary()``, ``BotStore.recent_questions`` and :func:`bot.slack.home.home_view`.

Cold is the first build after the corpus changed: a desk whose summary is not kept yet (a
fresh desk on the same store, made before the clock starts), so the aggregate over the
documents runs. Warm is every build after it, until the corpus changes again. The baseline of
cold is the ``/sources`` reply built over the same corpus (every document listed, with its
passage count); that of warm is cold.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.bench.report import Row

if TYPE_CHECKING:
    from bot.store import BotStore
    from retrieval.engine import QuoteDesk

TARGET_HOME_MS = 300.0
# The person whose Home tab is built, and the questions the store holds (theirs, with
# repeats, and other people's: the query picks theirs by its index).
USER = "U0BENCHHOME"
OWN_QUESTIONS = 60
OTHERS = 40
OTHER_QUESTIONS = 25
# Shown on the tab (as the listener asks: bot.slack.listeners.events.HOME_RECENT).
RECENT = 5


@dataclass(frozen=True)
class HomeTimes:
    """Milliseconds to build the Home tab, medians over the runs, with the parts."""

    cold_ms: float
    warm_ms: float
    summary_cold_ms: float
    summary_warm_ms: float
    recent_ms: float
    view_ms: float
    sources_ms: float
    collections: int
    documents: int
    blocks: int
    runs: int
    warm_runs: int


def record_questions(records: BotStore, questions: Sequence[str], *, user: str = USER) -> None:
    """Questions asked before the tab is opened: ``user``'s (many repeated, as people ask the
    same thing again) and other people's."""
    from bot.store.records import AskedQuestion

    pool = list(questions) or ["what happened?"]
    for number in range(OWN_QUESTIONS):
        question = pool[number % len(pool)]
        records.record_question(AskedQuestion(f"D{user}", question, user_id=user))
    for other in range(OTHERS):
        person = f"U0OTHER{other:04d}"
        for number in range(OTHER_QUESTIONS):
            question = f"{pool[number % len(pool)]} ({other})"
            records.record_question(AskedQuestion(f"D{person}", question, user_id=person))


def build_home(
    desk: QuoteDesk, records: BotStore, *, user: str, k: int, parts: list[float] | None = None
) -> dict[str, Any]:
    """The Home tab as the listener builds it; ``parts`` hears the milliseconds of the summary,
    the recent questions and the view, in turn."""
    from bot.slack.home import home_view

    started = time.perf_counter()
    collections = desk.summary()
    summarized = time.perf_counter()
    recent = records.recent_questions(user, limit=RECENT)
    read = time.perf_counter()
    view = home_view(collections=collections, recent=recent, k=k)
    done = time.perf_counter()
    if parts is not None:
        parts += [(summarized - started) * 1000, (read - summarized) * 1000, (done - read) * 1000]
    return view


def measure(
    open_desk: Callable[[], QuoteDesk],
    records: BotStore,
    *,
    user: str = USER,
    k: int = 3,
    runs: int = 5,
    warm_runs: int = 20,
) -> HomeTimes:
    """Cold and warm Home tab builds, and the ``/sources`` reply over the same corpus.

    Args:
        open_desk: A fresh desk on the corpus measured (its summary not kept yet).
        records: The bot's store, holding ``user``'s questions.
        runs: Cold builds (a fresh desk each), and ``/sources`` replies.
        warm_runs: Builds on the last desk after its first.
    """
    from bot.slack.blocks import sources_message

    cold: list[float] = []
    cold_parts: list[list[float]] = []
    desk = open_desk()
    for run in range(runs):
        if run:
            desk = open_desk()  # made before the clock starts: a listener's desk is
        parts: list[float] = []
        started = time.perf_counter()
        view = build_home(desk, records, user=user, k=k, parts=parts)
        cold.append((time.perf_counter() - started) * 1000)
        cold_parts.append(parts)
    warm: list[float] = []
    warm_parts: list[list[float]] = []
    for _ in range(warm_runs):
        parts = []
        started = time.perf_counter()
        build_home(desk, records, user=user, k=k, parts=parts)
        warm.append((time.perf_counter() - started) * 1000)
        warm_parts.append(parts)
    sources: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        sources_message(desk.sources())
        sources.append((time.perf_counter() - started) * 1000)
    summary = desk.summary()
    return HomeTimes(
        cold_ms=statistics.median(cold),
        warm_ms=statistics.median(warm),
        summary_cold_ms=statistics.median(p[0] for p in cold_parts),
        summary_warm_ms=statistics.median(p[0] for p in warm_parts),
        recent_ms=statistics.median(p[1] for p in (*cold_parts, *warm_parts)),
        view_ms=statistics.median(p[2] for p in (*cold_parts, *warm_parts)),
        sources_ms=statistics.median(sources),
        collections=len(summary),
        documents=sum(c.documents for c in summary),
        blocks=len(view["blocks"]),
        runs=runs,
        warm_runs=warm_runs,
    )


def home_rows(section: str, size: str, times: HomeTimes) -> list[Row]:
    """The report's rows: cold against the ``/sources`` reply, warm against cold."""
    where = f"Home tab at {size} passages"
    corpus = (
        f"{times.collections} collections, {times.documents:,} documents; {times.blocks} blocks"
    )
    return [
        Row(
            section,
            f"{where}, cold: first build after the corpus changed (median of {times.runs})",
            times.cold_ms,
            "ms",
            "`/sources` reply built, same corpus",
            times.sources_ms,
            target=f"<= {TARGET_HOME_MS:.0f} ms",
            met=times.cold_ms <= TARGET_HOME_MS,
            note=f"summary {times.summary_cold_ms:.1f}, recent questions {times.recent_ms:.1f}, "
            f"view {times.view_ms:.1f} ms; {corpus}",
        ),
        Row(
            section,
            f"{where}, warm: summary kept (median of {times.warm_runs})",
            times.warm_ms,
            "ms",
            "the cold build above",
            times.cold_ms,
            target=f"<= {TARGET_HOME_MS:.0f} ms",
            met=times.warm_ms <= TARGET_HOME_MS,
            note=f"summary {times.summary_warm_ms:.2f} ms",
        ),
    ]


def bench_home(
    section: str,
    size: str,
    *,
    open_desk: Callable[[], QuoteDesk],
    questions: Sequence[str],
    k: int,
    add: Callable[[Row], object],
    log: Callable[[str], None],
    runs: int = 5,
    warm_runs: int = 20,
) -> HomeTimes:
    """Record questions in the bot's store of the desk's database, measure, and add the rows."""
    from bot.store import BotStore

    desk = open_desk()
    records = BotStore(desk.store)
    record_questions(records, questions)
    times = measure(open_desk, records, k=k, runs=runs, warm_runs=warm_runs)
    log(
        f"{section}: Home tab cold {times.cold_ms:.1f} ms (summary "
        f"{times.summary_cold_ms:.1f} ms), warm {times.warm_ms:.1f} ms; /sources reply "
        f"{times.sources_ms:.1f} ms"
    )
    for row in home_rows(section, size, times):
        add(row)
    return times
