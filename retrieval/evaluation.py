"""Measuring answers against labeled question sets.

A question set is JSON lines; each line is one of:

- labeled: ``{"question": ..., "sources": ["file.txt", ...], "contains": "phrase"}`` — a hit is
  a quote from one of ``sources`` (or listing one in ``also_in``) whose text contains ``phrase``;
- off-topic: ``{"question": ..., "off_topic": true}`` — the right answer is to abstain;
- answer string: ``{"q": ..., "answer": "Bed Bath & Beyond"}`` — answered at k when the string
  (case-insensitive) appears in one of the first k quotes (the RealTimeQA convention).

Any line may say when it is asked: ``"as_of": "YYYY-MM-DD"``, or a ``qid`` that starts with the
date (``"20220701_3"``, as the RealTimeQA sets do); "this week" then means that week.
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
from retrieval.tuning import Mode, parse_mode


@dataclass(frozen=True)
class EvalCase:
    question: str
    sources: tuple[str, ...] = ()
    contains: str | None = None
    answer: str | None = None
    off_topic: bool = False
    as_of: date | None = None

    @property
    def labeled(self) -> bool:
        return bool(self.sources and self.contains)


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
            cases.append(
                EvalCase(
                    question=question,
                    sources=tuple(sources),
                    contains=row.get("contains"),
                    answer=row.get("answer"),
                    off_topic=bool(row.get("off_topic")),
                    as_of=_as_of(row),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
    return cases


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
    for case in cases:
        asked_on = (case.as_of if question_dates else None) or as_of
        started = time.perf_counter()
        answer = desk.ask(case.question, k=5, mode=mode, as_of=asked_on)
        timings.append((time.perf_counter() - started) * 1000)
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
    if timings:
        report.median_ms = statistics.median(timings)
        report.p95_ms = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    return report
