"""``quotedesk ingest`` (add, update, prune) and ``quotedesk sources`` (what is stored)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot import terminal
from bot.cli import common


@click.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove stored documents whose files are gone.")
@common.data_dir_option
def ingest(path: Path | None, prune: bool, data_dir: Path | None) -> None:
    """Add or update the text files under PATH, a folder or one file (default: seeds/)."""
    with common.user_errors():
        desk = common.open_desk(data_dir)
        common.ingest_with_progress(desk, path or common.default_seeds(), prune=prune)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document, per line.")
@common.data_dir_option
def sources(as_json: bool, data_dir: Path | None) -> None:
    """List the stored documents with their dates and passage counts."""
    with common.user_errors():
        infos = common.open_desk(data_dir).sources()
    if as_json:
        for info in infos:
            terminal.print_json(info.to_dict(), sys.stdout)
    else:
        terminal.print_sources(common.make_console(), infos)
