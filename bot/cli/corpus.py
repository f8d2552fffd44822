"""``quotedesk ingest`` (add, update, prune) and ``quotedesk sources`` (what is stored)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot import terminal
from bot.cli import common


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--prune", is_flag=True, help="Remove this collection's documents whose files are gone."
)
@click.option(
    "--collection",
    metavar="NAME",
    help="The collection the documents go into  [default: the one this folder went into "
    "before, else the folder's name]",
)
@common.data_dir_option
def ingest(path: Path | None, prune: bool, collection: str | None, data_dir: Path | None) -> None:
    """Add or update the text files under PATH, a folder or one file (default: seeds/).

    Documents are named by their collection and their path in the folder, so two folders
    holding files of the same name never overwrite each other.
    """
    with common.user_errors():
        desk = common.open_desk(data_dir)
        common.ingest_with_progress(
            desk, path or common.default_seeds(), prune=prune, collection=collection
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document, per line.")
@common.data_dir_option
def sources(as_json: bool, data_dir: Path | None) -> None:
    """List the stored documents with their dates and passage counts (and their collection,
    when there are several)."""
    with common.user_errors():
        infos = common.open_desk(data_dir).sources()
    if as_json:
        for info in infos:
            terminal.print_json(info.to_dict(), sys.stdout)
    else:
        terminal.print_sources(common.make_console(), infos)
