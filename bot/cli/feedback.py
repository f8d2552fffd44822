"""``quotedesk feedback``: the 👍 and 👎 given in Slack, as test cases (``export``, JSON lines
that ``quotedesk eval`` reads) and as counts per week and collection (``stats``).

A vote is on the first quote shown: a 👍 approves it (it should stay among the first quotes),
a 👎 rejects it (it should no longer come first). Votes recorded before the bot kept each
quote's span and text name only its passage id and source: their passage is looked up in the
corpus, and left out when it is gone. Nothing of who voted, nor where, is exported.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.cli import common

if TYPE_CHECKING:
    from bot.store.records import Feedback
    from retrieval.records import Passage

VERDICTS = {"up": "approved", "down": "rejected"}
UNKNOWN = "—"  # a collection not known (a vote on no quote, or a passage gone)
SPAN = ("start", "end", "text")


@dataclass(frozen=True)
class Export:
    """What :func:`export_cases` made of the votes.

    Attributes:
        cases: One evaluation case per vote kept, oldest first.
        gone: Votes left out: their passage is no longer in the corpus.
        unquoted: Votes left out: the answer voted on showed no quote.
    """

    cases: list[dict[str, Any]] = field(default_factory=list)
    gone: int = 0
    unquoted: int = 0

    def counts(self) -> Counter[str]:
        return Counter(case["vote"] for case in self.cases)


def _complete(quote: Mapping[str, Any]) -> bool:
    """Whether a recorded quote carries its span and text (recorded since revision b0002)."""
    return (
        isinstance(quote.get("source"), str)
        and all(isinstance(quote.get(k), int) for k in ("start", "end"))
        and isinstance(quote.get("text"), str)
    )


def _first_quote(vote: Feedback) -> Mapping[str, Any] | None:
    first = vote.quotes[0] if vote.quotes else None
    return first if isinstance(first, Mapping) else None


def lookups(votes: Iterable[Feedback]) -> set[int]:
    """The passage ids to look up in the corpus: those of first quotes recorded without
    their span and text."""
    wanted = set()
    for vote in votes:
        quote = _first_quote(vote)
        if quote is not None and not _complete(quote) and isinstance(quote.get("passage_id"), int):
            wanted.add(quote["passage_id"])
    return wanted


def reference(quote: Mapping[str, Any], passages: Mapping[int, Passage]) -> dict[str, Any] | None:
    """The passage ``quote`` shows, as a case names it (``source``, ``collection``, ``start``,
    ``end``, ``text``); ``None`` when it is no longer in the corpus.

    A quote recorded without its span and text is looked up in ``passages`` by its id; a
    passage found under that id in another document is not the one voted on.

    Example:
        >>> reference({"passage_id": 3, "source": "a.txt", "collection": "news",
        ...            "start": 0, "end": 5, "text": "Owls."}, {})
        {'source': 'a.txt', 'collection': 'news', 'start': 0, 'end': 5, 'text': 'Owls.'}
        >>> reference({"passage_id": 3, "source": "a.txt"}, {}) is None
        True
    """
    if _complete(quote):
        return {
            "source": quote["source"],
            "collection": quote.get("collection"),
            **{k: quote[k] for k in SPAN},
        }
    pid = quote.get("passage_id")
    passage = passages.get(pid) if isinstance(pid, int) else None
    if passage is None:
        return None
    recorded = quote.get("source")
    if recorded is not None and recorded != passage.document.source.path:
        return None
    return {
        "source": passage.document.source.path,
        "collection": passage.document.source.collection,
        "start": passage.start,
        "end": passage.end,
        "text": passage.text,
    }


def export_cases(
    votes: Iterable[Feedback],
    passages: Mapping[int, Passage],
    *,
    collection: str | None = None,
) -> Export:
    """One evaluation case per vote (the lines of ``quotedesk feedback export``).

    Args:
        votes: The votes, oldest first (:meth:`BotStore.feedback`).
        passages: The corpus's passages of ids :func:`lookups` named, by id.
        collection: Only the votes on a passage of this collection.

    Example:
        >>> from bot.store.records import Feedback
        >>> quote = {"passage_id": 3, "source": "a.txt", "collection": "news",
        ...          "start": 0, "end": 5, "text": "Owls."}
        >>> done = export_cases([Feedback("down", "who?", (quote,), user_id="U1")], {})
        >>> done.cases[0]["rejected"]["source"], "user_id" in done.cases[0]
        ('a.txt', False)
    """
    cases: list[dict[str, Any]] = []
    gone = unquoted = 0
    for vote in votes:
        quote = _first_quote(vote)
        if vote.vote not in VERDICTS:
            continue
        if quote is None:
            unquoted += 1
            continue
        passage = reference(quote, passages)
        if passage is None:
            gone += 1
            continue
        if collection is not None and passage["collection"] != collection:
            continue
        case: dict[str, Any] = {"question": vote.question}
        if vote.context:
            case["thread"] = list(vote.context)
        if vote.as_of is not None:
            case["as_of"] = vote.as_of.isoformat()
        if vote.collections is not None:
            case["collections"] = list(vote.collections)
        case["vote"] = vote.vote
        case[VERDICTS[vote.vote]] = passage
        if vote.created_at is not None:
            case["voted_at"] = vote.created_at.isoformat(timespec="seconds")
        cases.append(case)
    return Export(cases, gone=gone, unquoted=unquoted)


def iso_week(moment: datetime) -> str:
    """``2026-W49``: the ISO week of ``moment``.

    Example:
        >>> iso_week(datetime(2027, 1, 1))
        '2026-W53'
    """
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_counts(
    votes: Iterable[Feedback], passages: Mapping[int, Passage]
) -> list[dict[str, Any]]:
    """👍 and 👎 per ISO week (of when they were recorded) and collection (of the first quote;
    ``None`` when unknown), by week then collection.

    Example:
        >>> from bot.store.records import Feedback
        >>> quote = {"passage_id": 3, "source": "a.txt", "collection": "news"}
        >>> at = datetime(2026, 12, 3, tzinfo=UTC)
        >>> weekly_counts([Feedback("up", "who?", (quote,), created_at=at)], {})
        [{'week': '2026-W49', 'collection': 'news', 'up': 1, 'down': 0}]
    """
    counts: dict[tuple[str, str | None], Counter[str]] = {}
    for vote in votes:
        quote = _first_quote(vote)
        name = None
        if quote is not None:
            name = quote.get("collection")
            if not isinstance(name, str):
                found = reference(quote, passages)
                name = found["collection"] if found else None
        week = iso_week(vote.created_at) if vote.created_at else UNKNOWN
        counts.setdefault((week, name), Counter())[vote.vote] += 1
    return [
        {"week": week, "collection": name, "up": tally["up"], "down": tally["down"]}
        for (week, name), tally in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


@click.group()
def feedback() -> None:
    """The 👍 and 👎 given in Slack: export them as test cases for `quotedesk eval`, or count
    them per week."""


@feedback.command()
@click.option(
    "--since",
    type=common.Day(),
    default=None,
    help="Only the votes recorded on or after this day (UTC).",
)
@click.option("--collection", metavar="NAME", help="Only the votes on a passage of NAME.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the cases to FILE.  [default: stdout]",
)
@common.data_dir_option
def export(
    since: date | None, collection: str | None, output: Path | None, data_dir: Path | None
) -> None:
    """Write one evaluation case per vote, as JSON lines `quotedesk eval` reads: the question
    (with its thread, day and collections) and the passage a 👍 approved or a 👎 rejected."""
    from bot import terminal
    from bot.store import BotStore

    with common.user_errors():
        desk = common.open_desk(data_dir)
        try:
            moment = None if since is None else datetime.combine(since, time.min, tzinfo=UTC)
            votes = BotStore(desk.store).feedback(since=moment)
            done = export_cases(votes, desk.store.passages(lookups(votes)), collection=collection)
        finally:
            desk.store.close()
    if output is None:
        for case in done.cases:
            terminal.print_json(case, sys.stdout)
    else:
        try:
            with output.open("w", encoding="utf-8") as stream:
                for case in done.cases:
                    terminal.print_json(case, stream)
        except OSError as exc:
            common.fail(f"cannot write {output}: {exc.strerror or exc}", code=common.EXIT_USAGE)
    stderr = common.make_console(stderr=True)
    if done.gone:
        stderr.print(
            f"skipped {done.gone} votes whose passage is no longer in the corpus", markup=False
        )
    if done.unquoted:
        stderr.print(f"skipped {done.unquoted} votes on answers that quoted nothing", markup=False)
    counts = done.counts()
    stderr.print(
        f"exported {len(done.cases)} cases ({counts['up']} 👍, {counts['down']} 👎)", markup=False
    )


@feedback.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per week and collection.")
@common.data_dir_option
def stats(as_json: bool, data_dir: Path | None) -> None:
    """Count the 👍 and 👎 per ISO week and collection (of the passage voted on)."""
    from rich.table import Table

    from bot import terminal
    from bot.printable import printable
    from bot.store import BotStore

    with common.user_errors():
        desk = common.open_desk(data_dir)
        try:
            votes = BotStore(desk.store).feedback()
            rows = weekly_counts(votes, desk.store.passages(lookups(votes)))
        finally:
            desk.store.close()
    if as_json:
        for row in rows:
            terminal.print_json(row, sys.stdout)
        return
    console = common.make_console()
    if not rows:
        console.print("No feedback yet.", markup=False)
        return
    table = Table()
    table.add_column("week")
    table.add_column("collection")
    table.add_column("👍", justify="right")
    table.add_column("👎", justify="right")
    for row in rows:
        name = UNKNOWN if row["collection"] is None else printable(row["collection"])
        table.add_row(row["week"], name, str(row["up"]), str(row["down"]))
    console.print(table)
