"""Answers, sources and evaluations rendered for a console, or as JSON lines.

Nothing here pads a line to the console's width, so piped output (see
:func:`bot.cli.common.make_console`) carries no trailing spaces. Nothing from a question, a
corpus file or a file name reaches the terminal raw: text goes through
:func:`bot.printable.printable`, JSON escapes every control character.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from rich.cells import get_character_cell_size
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from bot.labels import context_label, date_label, source_label
from bot.printable import UNSAFE, printable

if TYPE_CHECKING:
    from retrieval.answer import Answer, Quote, Source, SourceInfo
    from retrieval.evaluation import EvalReport
    from retrieval.excerpts import Excerpt
    from retrieval.ingest import IngestReport

INDENT = 3
# Below this, wrapping under an indent is no longer readable: let the terminal wrap instead.
MIN_WRAP = 20
# json.dumps escapes C0 controls; these it leaves raw (ensure_ascii=False), and they can only
# stand inside a JSON string, where \uXXXX means the same character.
_JSON_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in UNSAFE}


def quote_text(quote: Quote) -> Text:
    """The quote verbatim (control characters made visible), its best-answering sentences
    highlighted."""
    text = Text(printable(quote.text))
    for start, end in quote.highlights:
        text.stylize("bold yellow", start, end)
    return text


def indented_lines(console: Console, text: Text, *, indent: int = INDENT) -> list[Text]:
    """``text`` wrapped to the console, every line indented (a hanging indent when it wraps).

    Wrapped here rather than with :class:`rich.padding.Padding`, which pads each line out to
    the console's width.
    """
    width = max(console.width - indent, MIN_WRAP)
    lines = []
    for line in wrap(console, text, width):
        line.rstrip()
        # A blank line between paragraphs stays empty: no indent, no trailing spaces.
        if line.plain:
            line.pad_left(indent)
        lines.append(line)
    return lines


def wrap(console: Console, text: Text, width: int) -> list[Text]:
    """``text.wrap(console, width)``: the same lines, in a fifth of the time when every
    character is one cell wide (news in Latin, Greek or Cyrillic script, say), where a word's
    width is its length; rich measures the cells of every word, and that was most of the time
    an answer took to format."""
    plain = text.plain
    if not _one_cell(plain):
        return list(text.wrap(console, width))
    lines: list[Text] = []
    for line in text.split("\n", allow_blank=True):
        breaks = _breaks(line.plain, width)
        if breaks is None:
            return list(text.wrap(console, width))
        for part in line.divide(breaks):
            part.rstrip_end(width)
            lines.append(part)
    return lines


_WORD = re.compile(r"\s*\S+\s*")


def _one_cell(plain: str) -> bool:
    """Whether every character of ``plain`` but its line breaks takes one terminal cell (no
    tabs, wide or combining characters): then a word's width is its length."""
    return "\t" not in plain and all(get_character_cell_size(c) == 1 for c in set(plain) - {"\n"})


def _breaks(line: str, width: int) -> list[int] | None:
    """Where rich's word wrap breaks ``line`` of one-cell characters (``rich._wrap``), or None
    for a word longer than ``width`` (which rich folds)."""
    breaks = []
    used = 0
    for word in _WORD.finditer(line):
        size = len(word.group().rstrip())
        if size <= width - used:
            used += word.end() - word.start()
        elif size > width:
            return None
        elif used and word.start():
            breaks.append(word.start())
            used = word.end() - word.start()
    return breaks


def print_indented(console: Console, text: Text, *, indent: int = INDENT) -> None:
    """Print ``text`` with every line indented (see :func:`indented_lines`)."""
    _print_lines(console, indented_lines(console, text, indent=indent))


def answer_lines(console: Console, answer: Answer) -> list[Text]:
    """The answer as the terminal shows it, line by line, wrapped to ``console``."""
    lines: list[Text] = []
    for text, indented in _answer_parts(answer):
        lines.extend(indented_lines(console, text) if indented else [text])
    return lines


def answer_plain(console: Console, answer: Answer) -> list[str]:
    """The plain text of :func:`answer_lines`, line by line, wrapped without rich where every
    character is one cell wide: piped output has no styles to keep, and rich's dividing of
    styled text was most of the time an answer took to print."""
    lines: list[str] = []
    for text, indented in _answer_parts(answer):
        if not indented:
            lines.append(text.plain)
        elif (found := _plain_indented(console, text.plain)) is not None:
            lines.extend(found)
        else:
            lines.extend(line.plain for line in indented_lines(console, text))
    return lines


def _plain_indented(console: Console, plain: str, *, indent: int = INDENT) -> list[str] | None:
    """``indented_lines(console, Text(plain))`` as strings, or None where only rich can tell
    (tabs, characters of other than one cell, a word longer than a line)."""
    width = max(console.width - indent, MIN_WRAP)
    if not _one_cell(plain):
        return None
    lines = []
    pad = " " * indent
    for line in plain.split("\n"):
        breaks = _breaks(line, width)
        if breaks is None:
            return None
        for start, end in zip([0, *breaks], [*breaks, len(line)], strict=True):
            part = line[start:end].rstrip()
            lines.append(pad + part if part else "")
    return lines


def _answer_parts(answer: Answer) -> list[tuple[Text, bool]]:
    """The answer's lines before wrapping, each with whether it is wrapped and indented."""
    parts = [(Text.assemble(("Q: ", "bold cyan"), (printable(answer.question), "bold")), False)]
    if answer.context:
        parts.append((Text(printable(context_label(answer.context)), style="dim italic"), False))
    if answer.period:
        parts.append((Text(printable(answer.period.describe()), style="dim italic"), False))
    if not answer.answered:
        parts.append((Text("Nothing in the corpus answers this.", style="magenta"), False))
        if answer.related:
            parts.append((Text("Might be related:", style="dim"), False))
            for source in answer.related:
                parts.append((Text(f"  • {printable(source_label(source))}", style="dim"), False))
        parts.append((Text(), False))
        return parts
    for number, quote in enumerate(answer.quotes, start=answer.offset + 1):
        header = Text.assemble(
            (f"{number}. ", "bold"),
            (printable(quote.source.path), "green"),
            (" · ", "dim"),
            (date_label(quote.source), "cyan" if quote.source.date else "dim italic"),
            (f"  score {quote.score:.2f}", "dim"),
        )
        parts.append((header, False))
        parts.append((quote_text(quote), True))
        if quote.source.url:
            parts.append((link_line(quote.source), True))
        if quote.also_in:
            also = ", ".join(source_label(s) for s in quote.also_in)
            parts.append((Text(f"also in: {printable(also)}", style="dim"), True))
        parts.append((Text(), False))
    return parts


def link_line(source: Source) -> Text:
    """The document's title and link, under its quote (a link a terminal can open)."""
    url = printable(source.url or "")
    title = printable(source.title) + " — " if source.title else ""
    return Text.assemble((title, "italic dim"), (url, Style(dim=True, underline=True, link=url)))


def print_answer(console: Console, answer: Answer) -> None:
    if _is_plain(console):
        _write_plain(console, answer_plain(console, answer))
    else:
        _print_lines(console, answer_lines(console, answer))


def _is_plain(console: Console) -> bool:
    # Nothing to style (piped output) and nothing recorded: the text itself is written.
    return console.color_system is None and not console.record


def _write_plain(console: Console, lines: list[str]) -> None:
    console.file.write("\n".join(line.expandtabs(console.tab_size) for line in lines))
    console.file.write("\n")
    console.file.flush()


def _print_lines(console: Console, lines: list[Text]) -> None:
    # One print of lines already wrapped (soft_wrap: rich wraps nothing again): a print per
    # line cost more than the search behind the answer.
    if not lines:
        return
    if _is_plain(console):
        # Without rich's rendering of the text (2 ms an answer).
        _write_plain(console, [line.plain for line in lines])
        return
    console.print(Text("\n").join(lines), soft_wrap=True)


def print_sources(console: Console, sources: list[SourceInfo]) -> None:
    """One line per document; each starts with its ``[collection]`` when there are several."""
    if not sources:
        console.print("No documents yet: run `quotedesk ingest FOLDER`.")
        return
    several = len({info.source.collection for info in sources}) > 1
    for info in sources:
        line = Text.assemble(
            (f"[{printable(info.source.collection or '')}] " if several else "", "magenta"),
            (printable(info.source.path), "green"),
            ("  ", ""),
            (date_label(info.source), "cyan" if info.source.date else "dim italic"),
            (f"  {info.passages} passages", "dim"),
        )
        if info.source.title:
            line.append(f"  {printable(info.source.title)}", style="italic")
        if info.source.url:
            url = printable(info.source.url)
            line.append(f"  {url}", style=Style(dim=True, link=url))
        console.print(line)


def print_excerpt(console: Console, source: Source, part: Excerpt) -> None:
    """A document's stored text (or the part around a passage, the passage in bold), under a
    line naming it: source, date, title and link."""
    head = Text.assemble(
        (printable(source.path), "green"),
        (" · ", "dim"),
        (date_label(source), "cyan" if source.date else "dim italic"),
    )
    if source.title:
        head.append(f"  {printable(source.title)}", style="italic")
    lines = [head]
    if source.url:
        url = printable(source.url)
        lines.append(Text(url, style=Style(dim=True, underline=True, link=url)))
    if part.passage is not None:
        lines.append(
            Text(
                f"characters {part.start}-{part.end} of {part.length}; the passage at "
                f"{part.passage[0]}-{part.passage[1]} in bold",
                style="dim",
            )
        )
    body = Text(printable(part.text))
    if part.passage is not None:
        body.stylize("bold", part.passage[0] - part.start, part.passage[1] - part.start)
        if part.start > 0:
            body = Text("… ", style="dim") + body
        if part.end < part.length:
            body.append(" …", style="dim")
    lines += [Text(), body]
    console.print(Text("\n").join(lines), soft_wrap=True)


def print_json(obj: object, stream: IO[str]) -> None:
    stream.write(json.dumps(obj, ensure_ascii=False).translate(_JSON_ESCAPES) + "\n")
    stream.flush()


def print_report(console: Console, report: IngestReport) -> None:
    console.print(Text(report.summary(), style="bold"))


EVAL_COLUMNS = (
    "mode",
    "hit@1",
    "hit@3",
    "MRR@5",
    "abstained off-topic",
    "abstained in-domain",
    "answer@1",
    "answer@5",
    "highlight@1",
    "median ms",
    "p95 ms",
)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def eval_table(reports: Sequence[EvalReport], *, title: str) -> Table:
    """One row of figures per mode."""
    table = Table(title=title)
    for column in EVAL_COLUMNS:
        table.add_column(column, justify="right")
    for r in reports:
        table.add_row(
            str(r.mode),
            _rate(r.hit1),
            _rate(r.hit3),
            _rate(r.mrr5),
            f"{_rate(r.abstention)} of {r.off_topic}" if r.off_topic else "–",
            str(r.in_domain_abstained),
            _rate(r.answer1),
            _rate(r.answer5),
            _rate(r.highlight1),
            f"{r.median_ms:.1f}",
            f"{r.p95_ms:.1f}",
        )
    return table


def feedback_line(report: EvalReport) -> str:
    """What became of the passages voted on in Slack (``quotedesk feedback export``).

    Example:
        >>> from retrieval.evaluation import EvalReport
        >>> feedback_line(EvalReport("hybrid", approved=4, approved_kept=0.75, rejected=0))
        'feedback: 4 approved, kept in the top 3 0.750; 0 rejected'
    """
    approved = f"{report.approved} approved"
    if report.approved:
        approved += f", kept in the top 3 {_rate(report.approved_kept)}"
    rejected = f"{report.rejected} rejected"
    if report.rejected:
        rejected += f", no longer first {_rate(report.rejected_not_first)}"
    return f"feedback: {approved}; {rejected}"


def print_eval(
    console: Console, reports: Sequence[EvalReport], *, title: str, misses: bool = False
) -> None:
    """The figures as a table, then (with ``misses``) the questions not answered first."""
    console.print(eval_table(reports, title=title))
    for r in reports:
        if r.follow_ups:
            console.print(
                f"{r.mode}: {r.follow_ups} follow-ups, hit@1/hit@3 with their thread "
                f"{_rate(r.hit1)}/{_rate(r.hit3)}, alone {_rate(r.hit1_alone)}/"
                f"{_rate(r.hit3_alone)}",
                markup=False,
            )
    for r in reports:
        if r.approved or r.rejected:
            console.print(f"{r.mode}: {feedback_line(r)}", markup=False)
    if misses:
        for r in reports:
            for miss in r.misses:
                console.print(f"{r.mode}: {printable(str(miss))}", markup=False)
