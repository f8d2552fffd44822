"""The bench's newsroom step: a set of mixed-format files (web pages, PDFs, Word files,
Markdown, exports, feeds) against its plain-text twin, in one run.

A set is laid out as ``newsroom-2022`` is: ``corpus/`` (the files as a newsroom keeps them),
``txt/`` (the same articles in the plain seed format), ``questions.jsonl`` (``qid`` starting
with the quiz week's ``YYYYMMDD``, ``q``, ``answer``) and ``truth.jsonl`` (per article: ``file``,
``format``, ``url``, ``date``, ``title``, ``chrome``: its page furniture). Each figure is
counted as the set's own scorer counts it: an article is found by a source's ``url``, else by
its file's path; an answer is a case-insensitive match of the answer string in a quote.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.bench.report import Row

if TYPE_CHECKING:
    from retrieval.answer import Answer, Source
    from retrieval.engine import QuoteDesk

# The targets, each against the plain-text twin or the set's truth.
TARGET_INGEST_RATIO = 1.25
TARGET_DATES = 0.98
TARGET_TITLES = 0.97
TARGET_CHROME = 0.01
TARGET_ANSWER_GAP = 0.02
SINGLE_FILE_FORMATS = frozenset({"html", "pdf", "docx", "md"})
LINKED_FORMATS = frozenset({"html", "md", "jsonl", "rss"})


@dataclass
class Scores:
    """One side's answers: answer@1 and answer@5 over the questions."""

    at1: float = 0.0
    at5: float = 0.0


@dataclass
class Quality:
    """How the mixed side's sources and quotes match the set's truth."""

    articles: int = 0
    found: int = 0
    dates: int = 0
    titles: int = 0
    quotes: int = 0
    linked: int = 0
    url_right: int = 0
    chrome: int = 0
    unmatched: int = 0
    missed: list[str] = field(default_factory=list)


class Truth:
    """The set's truth, by URL and by file."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.by_url = {r["url"]: r for r in rows if r.get("url")}
        self.by_file = {r["file"]: r for r in rows if r["format"] in SINGLE_FILE_FORMATS}

    def of(self, source: Source) -> dict[str, Any] | None:
        if source.url and source.url in self.by_url:
            return self.by_url[source.url]
        path = source.path.replace("\\", "/")
        for key in (path, path.split("/", 1)[-1]):
            if key in self.by_file:
                return self.by_file[key]
        return None


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def week_of(qid: str) -> date:
    return date(int(qid[:4]), int(qid[4:6]), int(qid[6:8]))


def ask_all(desk: QuoteDesk, questions: Sequence[dict[str, Any]]) -> list[Answer]:
    """Each question asked as of its quiz week, five quotes each."""
    return [desk.ask(q["q"], k=5, as_of=week_of(q["qid"])) for q in questions]


def score(questions: Sequence[dict[str, Any]], answers: Sequence[Answer]) -> Scores:
    at1 = at5 = 0
    for question, answer in zip(questions, answers, strict=True):
        wanted = question["answer"].lower()
        hits = [wanted in quote.text.lower() for quote in answer.quotes[:5]]
        at1 += bool(hits and hits[0])
        at5 += any(hits)
    n = len(questions) or 1
    return Scores(at1 / n, at5 / n)


def quality(desk: QuoteDesk, truth: Truth, answers: Sequence[Answer]) -> Quality:
    """Articles found (each once), their dates and titles; the quotes' links and furniture."""
    found = Quality(articles=len(truth.rows))
    seen: set[str] = set()
    for info in desk.sources():
        row = truth.of(info.source)
        if row is None or row["key"] in seen:
            continue
        seen.add(row["key"])
        found.found += 1
        found.dates += (info.source.date.isoformat() if info.source.date else None) == row["date"]
        found.titles += (info.source.title or "").strip() == row["title"].strip()
    found.missed = sorted(r["file"] for r in truth.rows if r["key"] not in seen)[:10]
    for answer in answers:
        for quote in answer.quotes[:5]:
            found.quotes += 1
            row = truth.of(quote.source)
            if row is None:
                found.unmatched += 1
                continue
            if row["format"] in LINKED_FORMATS:
                found.linked += 1
                found.url_right += quote.source.url == row["url"]
            found.chrome += any(line in quote.text for line in row["chrome"])
    return found


def newsroom(
    set_dir: Path,
    *,
    desk: Callable[[str], QuoteDesk],
    add: Callable[[Row], object],
    log: Callable[[str], None],
) -> None:
    """Ingest ``set_dir``'s ``txt/`` and ``corpus/`` into desks of their own (the same
    encoder, loaded before the clock starts), ask every question as of its week in both, and
    add the rows: ingest time, articles, dates, titles, links, furniture, answers."""
    questions = read_lines(set_dir / "questions.jsonl")
    truth = Truth(read_lines(set_dir / "truth.jsonl"))
    txt, mixed = desk("newsroom-txt"), desk("newsroom-mixed")
    txt.encoder.encode(["warm up"])  # the model loaded, as a running bot has it
    log(f"newsroom: ingesting {set_dir / 'txt'}")
    started = time.perf_counter()
    txt.ingest(set_dir / "txt")
    txt_s = time.perf_counter() - started
    log(f"newsroom: {txt_s:.0f} s; ingesting {set_dir / 'corpus'}")
    started = time.perf_counter()
    report = mixed.ingest(set_dir / "corpus")
    mixed_s = time.perf_counter() - started
    log(f"newsroom: {mixed_s:.0f} s; asking {len(questions)} questions in both")
    plain = score(questions, ask_all(txt, questions))
    mixed_answers = ask_all(mixed, questions)
    ours = score(questions, mixed_answers)
    got = quality(mixed, truth, mixed_answers)
    section = f"newsroom {set_dir.name}"
    ratio = mixed_s / txt_s
    add(
        Row(
            section,
            f"ingest of {set_dir.name}/corpus ({len(truth.rows)} articles, mixed formats)",
            mixed_s,
            "s",
            "the plain-text twin's ingest",
            txt_s,
            target=f"<= {TARGET_INGEST_RATIO}x baseline",
            met=ratio <= TARGET_INGEST_RATIO,
            note=f"{len(report.skipped)} skipped",
        )
    )
    n = got.found or 1
    rows = [
        ("articles found", got.found / got.articles, "= 1.0", got.found == got.articles),
        ("dates right", got.dates / n, f">= {TARGET_DATES}", got.dates / n >= TARGET_DATES),
        ("titles right", got.titles / n, f">= {TARGET_TITLES}", got.titles / n >= TARGET_TITLES),
        (
            "url right on quotes of linked articles",
            got.url_right / (got.linked or 1),
            "= 1.0",
            got.url_right == got.linked,
        ),
        (
            "top-5 quotes holding page furniture",
            got.chrome / (got.quotes or 1),
            f"<= {TARGET_CHROME}",
            got.chrome / (got.quotes or 1) <= TARGET_CHROME,
        ),
    ]
    for name, value, target, met in rows:
        add(Row(section, name, value, "", target=target, met=met, better="higher"))
    for name, value, baseline in (
        ("answer@1, each question as of its week", ours.at1, plain.at1),
        ("answer@5, each question as of its week", ours.at5, plain.at5),
    ):
        add(
            Row(
                section,
                name,
                value,
                "",
                "the plain-text twin",
                baseline,
                better="higher",
                target=f"within {TARGET_ANSWER_GAP} of baseline",
                met=abs(value - baseline) <= TARGET_ANSWER_GAP + 1e-9,
            )
        )
    log(
        f"newsroom: found {got.found}/{got.articles}, dates {got.dates}, titles {got.titles}, "
        f"urls {got.url_right}/{got.linked}, chrome {got.chrome}/{got.quotes}, unmatched "
        f"{got.unmatched}; answer@1 {ours.at1:.3f} vs {plain.at1:.3f}, answer@5 "
        f"{ours.at5:.3f} vs {plain.at5:.3f}; ingest {mixed_s:.0f} s vs {txt_s:.0f} s"
        + (f"; not found: {', '.join(got.missed)}" if got.missed else "")
    )
