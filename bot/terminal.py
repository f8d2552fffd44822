"""Answers rendered for a terminal (colour when it is one) or as JSON lines."""

from __future__ import annotations

import json
from typing import IO

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from bot.labels import date_label, source_label
from retrieval.answer import Answer, Quote, SourceInfo
from retrieval.ingest import IngestReport


def quote_text(quote: Quote) -> Text:
    """The quote verbatim, its best-answering sentences highlighted."""
    text = Text(quote.text)
    for start, end in quote.highlights:
        text.stylize("bold yellow", start, end)
    return text


def print_answer(console: Console, answer: Answer) -> None:
    console.print(Text.assemble(("Q: ", "bold cyan"), (answer.question, "bold")))
    if not answer.answered:
        console.print(Text("Nothing in the corpus answers this.", style="magenta"))
        if answer.related:
            console.print(Text("Might be related:", style="dim"))
            for source in answer.related:
                console.print(Text(f"  • {source_label(source)}", style="dim"))
        console.print()
        return
    for number, quote in enumerate(answer.quotes, start=answer.offset + 1):
        header = Text.assemble(
            (f"{number}. ", "bold"),
            (quote.source.path, "green"),
            (" · ", "dim"),
            (date_label(quote.source), "cyan" if quote.source.date else "dim italic"),
            (f"  score {quote.score:.2f}", "dim"),
        )
        console.print(header)
        console.print(Padding(quote_text(quote), (0, 0, 0, 3)))
        if quote.also_in:
            also = ", ".join(source_label(s) for s in quote.also_in)
            console.print(Padding(Text(f"also in: {also}", style="dim"), (0, 0, 0, 3)))
        console.print()


def print_sources(console: Console, sources: list[SourceInfo]) -> None:
    if not sources:
        console.print("No documents yet: run `quotedesk ingest FOLDER`.")
        return
    for info in sources:
        line = Text.assemble(
            (info.source.path, "green"),
            ("  ", ""),
            (date_label(info.source), "cyan" if info.source.date else "dim italic"),
            (f"  {info.passages} passages", "dim"),
        )
        if info.source.title:
            line.append(f"  {info.source.title}", style="italic")
        console.print(line)


def print_json(obj: object, stream: IO[str]) -> None:
    stream.write(json.dumps(obj, ensure_ascii=False) + "\n")
    stream.flush()


def print_report(console: Console, report: IngestReport) -> None:
    console.print(Text(report.summary(), style="bold"))
