"""Measuring answers against labeled question sets.

A question set is JSON lines; each line is one of:

- labeled: ``{"question": ..., "sources": ["file.txt", ...], "contains": "phrase"}`` — a hit is
  a quote from one of ``sources`` (or listing one in ``also_in``) whose text contains ``phrase``;
- off-topic: ``{"question": ..., "off_topic": true}`` — the right answer is to abstain;
- answer string: ``{"q": ..., "answer": "Bed Bath & Beyond"}`` — answered at k when the string
  (case-insensitive) appears in one of the first k quotes (the RealTimeQA convention).

Any line may say when it is asked: ``"as_of": "YYYY-MM-DD"``, or a ``qid`` that starts with the
date (``"20220701_3"``, as the RealTimeQA sets do); "this week" then means that week.

A line with ``"thread": ["earlier question", ...]`` is a follow-up in a thread: it is asked
with those earlier questions (as the Slack bot reads a follow-up), and asked alone too, so the
report shows what the thread's context is worth (``hit1_alone``, ``hit3_alone``).

- feedback: a 👍 or 👎 given in Slack, as ``quotedesk feedback export`` writes it::

    {"question": ..., "thread": [...], "as_of": "YYYY-MM-DD", "collections": ["news"],
     "vote": "up", "approved": {"source": "a.txt", "collection": "news", "start": 120,
     "end": 480, "text": "..."}, "voted_at": "2026-12-03T10:15:00+00:00"}

  ``approved`` names the passage a 👍 approved (the first quote shown then), ``rejected`` the
  one a 👎 rejected; ``thread``, ``as_of`` and ``collections`` (asked with only those) are
  optional. A quote is that passage when it is from the same source (and collection, when both
  are known) and its span overlaps ``[start, end)``, or else when its text is the passage's
  text, in that source or in one of its duplicates (``also_in``). The report counts
  ``approved`` and ``rejected`` cases and gives ``approved_kept`` (the share of approved
  passages still among the first 3 quotes) and ``rejected_not_first`` (the share of rejected
  passages no longer quoted first); these cases count in no other figure.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from retrieval.answer import Answer, Quote
from retrieval.engine import QuoteDesk
from retrieval.records import Source
from retrieval.tuning import Mode, parse_mode


@dataclass(frozen=True)
class PassageRef:
    """A passage a vote was given on, as a feedback line names it.

    Attributes:
        source: The document's path.
        collection: Its collection, when known.
        start: The passage's offset in the document's text, when known.
        end: Its end offset, when known.
        text: Its text, when known.
    """

    source: str
    collection: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None


VOTES = {"approved": "up", "rejected": "down"}


@dataclass(frozen=True)
class EvalCase:
    question: str
    sources: tuple[str, ...] = ()
    contains: str | None = None
    answer: str | None = None
    off_topic: bool = False
    as_of: date | None = None
    context: tuple[str, ...] = ()
    # Feedback: the passage voted on and the vote ("up": approved, "down": rejected).
    passage: PassageRef | None = None
    vote: str | None = None
    # The collections it is asked with (``None``: all).
    collections: tuple[str, ...] | None = None

    @property
    def labeled(self) -> bool:
        return bool(self.sources and self.contains)

    @property
    def feedback(self) -> bool:
        return self.passage is not None and self.vote in ("up", "down")


def load_cases(path: str | Path) -> list[EvalCase]:
    """Read a question set; raises ``ValueError`` naming the first bad line."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row.get("question") or row["q"]
            sources = row.get("sources") or ([row["source"]] if row.get("source") else [])
            context = row.get("thread") or []
            if not isinstance(context, list) or not all(isinstance(q, str) for q in context):
                raise ValueError("thread must be a list of earlier questions")
            vote, passage = _feedback(row)
            collections = row.get("collections")
            if collections is not None and (
                not isinstance(collections, list)
                or not all(isinstance(name, str) for name in collections)
            ):
                raise ValueError("collections must be a list of collection names")
            cases.append(
                EvalCase(
                    question=question,
                    sources=tuple(sources),
                    contains=row.get("contains"),
                    answer=row.get("answer"),
                    off_topic=bool(row.get("off_topic")),
                    as_of=_as_of(row),
                    context=tuple(context),
                    passage=passage,
                    vote=vote,
                    collections=None if collections is None else tuple(collections),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
    return cases


def _feedback(row: dict[str, Any]) -> tuple[str | None, PassageRef | None]:
    """The vote and the passage of a feedback line (``approved`` or ``rejected``), else
    ``(None, None)``."""
    keys = [key for key in VOTES if row.get(key) is not None]
    if not keys:
        return None, None
    if len(keys) > 1:
        raise ValueError("a feedback line has approved or rejected, not both")
    vote = VOTES[keys[0]]
    if row.get("vote") is not None and row["vote"] != vote:
        raise ValueError(f"vote {row['vote']!r} does not go with {keys[0]}")
    ref = row[keys[0]]
    if not isinstance(ref, dict) or not isinstance(ref.get("source"), str):
        raise ValueError(f"{keys[0]} must be an object with a source")
    start, end, text, collection = (ref.get(k) for k in ("start", "end", "text", "collection"))
    offsets = (start, end)
    if not all(o is None or (isinstance(o, int) and not isinstance(o, bool)) for o in offsets):
        raise ValueError(f"{keys[0]}: start and end must be offsets")
    if not all(v is None or isinstance(v, str) for v in (text, collection)):
        raise ValueError(f"{keys[0]}: text and collection must be strings")
    if (start is None or end is None) and not text:
        raise ValueError(f"{keys[0]} needs start and end, or text")
    return vote, PassageRef(ref["source"], collection, start, end, text)


_QID_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})_")


def _as_of(row: dict[str, Any]) -> date | None:
    """The line's ``as_of``, else the date its ``qid`` starts with, else ``None``."""
    if row.get("as_of"):
        return date.fromisoformat(str(row["as_of"]))
    match = _QID_DATE.match(str(row.get("qid") or ""))
    if match:
        return date(*(int(part) for part in match.groups()))
    return None


@dataclass
class EvalReport:
    """Figures for one mode over one question set (rates are ``None`` with no such questions)."""

    mode: str
    labeled: int = 0
    hit1: float | None = None
    hit3: float | None = None
    mrr5: float | None = None
    off_topic: int = 0
    abstention: float | None = None
    in_domain_abstained: int = 0
    with_answer: int = 0
    answer1: float | None = None
    answer5: float | None = None
    # Of the questions with a correct quote, how often its emphasized sentence holds the
    # expected phrase or answer.
    highlight1: float | None = None
    # Follow-ups (lines with a thread): hit@1 and hit@3 when each is asked alone, without its
    # thread (hit1/hit3 are with it).
    follow_ups: int = 0
    hit1_alone: float | None = None
    hit3_alone: float | None = None
    # Feedback (lines with approved or rejected): how often an approved passage is still among
    # the first 3 quotes, and a rejected one no longer the first.
    approved: int = 0
    approved_kept: float | None = None
    rejected: int = 0
    rejected_not_first: float | None = None
    median_ms: float = 0.0
    p95_ms: float = 0.0
    misses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def quote_matches(case: EvalCase, quote: Quote) -> bool:
    paths = {quote.source.path, *(s.path for s in quote.also_in)}
    if not case.contains or case.contains not in quote.text:
        return False
    return bool(paths & set(case.sources))


def _words(text: str) -> str:
    return " ".join(text.split())


def passage_matches(ref: PassageRef, quote: Quote) -> bool:
    """Whether ``quote`` is the passage ``ref`` names.

    It is when it is from the same source (and the same collection, when both are known) and
    its span overlaps ``[start, end)``; failing that, when its text is ``ref``'s (whitespace
    aside) and it stands in that source or lists it among its duplicates (``also_in``).

    Example:
        >>> from retrieval.records import Source
        >>> quote = Quote("Owls hunt.", Source("a.txt", None), 1.0, 1.0, 7, 10, 20)
        >>> passage_matches(PassageRef("a.txt", start=15, end=40), quote)
        True
        >>> passage_matches(PassageRef("a.txt", start=20, end=40), quote)
        False
        >>> passage_matches(PassageRef("a.txt", text="Owls  hunt."), quote)
        True
    """

    def same_document(source: Source) -> bool:
        if source.path != ref.source:
            return False
        return ref.collection is None or source.collection in (None, ref.collection)

    if (
        same_document(quote.source)
        and ref.start is not None
        and ref.end is not None
        and quote.start < ref.end
        and ref.start < quote.end
    ):
        return True
    if ref.text is None or _words(quote.text) != _words(ref.text):
        return False
    return any(same_document(source) for source in (quote.source, *quote.also_in))


def passage_rank(ref: PassageRef, answer: Answer, k: int) -> int | None:
    """1-based rank of the quote that is ``ref``'s passage within the first ``k``."""
    for rank, quote in enumerate(answer.quotes[:k], start=1):
        if passage_matches(ref, quote):
            return rank
    return None


def answer_rank(case: EvalCase, answer: Answer, k: int) -> int | None:
    """1-based rank of the first quote that answers ``case`` within the first ``k``."""
    for rank, quote in enumerate(answer.quotes[:k], start=1):
        if case.labeled and quote_matches(case, quote):
            return rank
        if case.answer and case.answer.lower() in quote.text.lower():
            return rank
    return None


def highlight_holds(case: EvalCase, quote: Quote) -> bool:
    """Whether the emphasized sentences of ``quote`` hold what ``case`` expects."""
    emphasized = " ".join(quote.text[a:b] for a, b in quote.highlights)
    if case.labeled and case.contains:
        return case.contains in emphasized
    return bool(case.answer) and str(case.answer).lower() in emphasized.lower()


def evaluate(
    desk: QuoteDesk,
    cases: list[EvalCase],
    *,
    mode: Mode | str = Mode.HYBRID,
    as_of: date | None = None,
    question_dates: bool = True,
) -> EvalReport:
    """Ask every question once (five quotes each) and compute the figures.

    Args:
        desk: What answers.
        cases: The questions (:func:`load_cases`).
        mode: The retrieval mode.
        as_of: When the questions are asked (default: today) ...
        question_dates: ... unless a question says when it was asked (``as_of``, ``qid``)
            and this is true.
    """
    report = EvalReport(mode=str(parse_mode(mode)))
    timings: list[float] = []
    hit1 = hit3 = 0
    reciprocal = 0.0
    abstained_off = 0
    ans1 = ans5 = 0
    highlighted = found = 0
    alone1 = alone3 = 0
    kept = not_first = 0
    for case in cases:
        asked_on = (case.as_of if question_dates else None) or as_of
        started = time.perf_counter()
        answer = desk.ask(
            case.question,
            k=5,
            mode=mode,
            as_of=asked_on,
            context=case.context,
            collections=case.collections,
        )
        timings.append((time.perf_counter() - started) * 1000)
        if case.feedback and case.passage is not None:
            # Feedback: figures of its own, in no other.
            rank = passage_rank(case.passage, answer, 5)
            if case.vote == "up":
                report.approved += 1
                kept += rank is not None and rank <= 3
                if rank is None or rank > 3:
                    report.misses.append(f"approved passage at rank {rank or '-'}: {case.question}")
            else:
                report.rejected += 1
                not_first += rank != 1
                if rank == 1:
                    report.misses.append(f"rejected still first: {case.question}")
            continue
        if case.context:
            report.follow_ups += 1
            alone = answer_rank(case, desk.ask(case.question, k=5, mode=mode, as_of=asked_on), 5)
            alone1 += alone == 1
            alone3 += alone is not None and alone <= 3
        if case.off_topic:
            report.off_topic += 1
            abstained_off += not answer.answered
            if answer.answered:
                report.misses.append(f"answered off-topic: {case.question}")
            continue
        if not answer.answered:
            report.in_domain_abstained += 1
        rank = answer_rank(case, answer, 5)
        if case.labeled:
            report.labeled += 1
            hit1 += rank == 1
            hit3 += rank is not None and rank <= 3
            reciprocal += 1 / rank if rank else 0.0
        if case.answer:
            report.with_answer += 1
            ans1 += rank == 1
            ans5 += rank is not None
        if rank is not None:
            found += 1
            highlighted += highlight_holds(case, answer.quotes[rank - 1])
        if rank is None or rank > 1:
            report.misses.append(f"rank {rank or '-'}: {case.question}")
    if report.labeled:
        report.hit1 = hit1 / report.labeled
        report.hit3 = hit3 / report.labeled
        report.mrr5 = reciprocal / report.labeled
    if report.off_topic:
        report.abstention = abstained_off / report.off_topic
    if report.with_answer:
        report.answer1 = ans1 / report.with_answer
        report.answer5 = ans5 / report.with_answer
    if found:
        report.highlight1 = highlighted / found
    if report.approved:
        report.approved_kept = kept / report.approved
    if report.rejected:
        report.rejected_not_first = not_first / report.rejected
    if report.follow_ups:
        report.hit1_alone = alone1 / report.follow_ups
        report.hit3_alone = alone3 / report.follow_ups
    if timings:
        report.median_ms = statistics.median(timings)
        report.p95_ms = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    return report
