"""``quotedesk show SOURCE [--around START]``: a document's stored text, to check a quote in
context without the original file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot import terminal
from bot.cli import common
from retrieval.excerpts import excerpt

# Characters of context shown on each side of the passage at --around, widened to whole
# paragraphs: enough to see what comes before and after a quote.
CONTEXT_CHARS = 600


@click.command()
@click.argument("source")
@click.option(
    "--around",
    type=click.IntRange(min=0),
    metavar="START",
    help="Only the passage at this offset (a quote's `start`) and the paragraphs around it.",
)
@click.option("--collection", metavar="NAME", help="The collection, when several hold SOURCE.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: the source and its text.")
@common.data_dir_option
def show(
    source: str, around: int | None, collection: str | None, as_json: bool, data_dir: Path | None
) -> None:
    """Print the stored text of SOURCE (as `quotedesk sources` names it): the text its quotes
    are cut from, so `text == stored_text[start:end]` can be checked for any quote."""
    with common.user_errors():
        stored = common.open_desk(data_dir).stored_text(source, collection=collection)
        if stored.text is None:
            common.fail(
                f"{source} was stored before quotedesk kept documents' texts: ingest its folder "
                "again (nothing is encoded again) and retry",
                code=common.EXIT_ERROR,
            )
        part = excerpt(stored, around=around, context=CONTEXT_CHARS)
    if as_json:
        terminal.print_json(
            {**stored.source.to_dict(), **part.to_dict()},
            sys.stdout,
        )
    else:
        terminal.print_excerpt(common.make_console(), stored.source, part)
