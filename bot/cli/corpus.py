"""``quotedesk ingest`` (add, update, prune) and ``quotedesk sources`` (what is stored)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot import terminal
from bot.cli import common
from bot.cli.fetching import fetch_options, is_web_address, make_fetcher


@click.command()
@click.argument("target", required=False, metavar="[PATH|URL]")
@click.option(
    "--prune", is_flag=True, help="Remove this collection's documents whose files are gone."
)
@click.option(
    "--collection",
    metavar="NAME",
    help="The collection the documents go into  [default: the one this folder went into "
    "before, else the folder's name; for a URL, its host]",
)
@fetch_options
@common.data_dir_option
def ingest(
    target: str | None,
    prune: bool,
    collection: str | None,
    max_pages: int,
    allow_private: bool,
    data_dir: Path | None,
) -> None:
    """Add or update the documents under PATH, a folder or one file (default: seeds/), or
    fetched from URL, a web page, an RSS/Atom feed or a sitemap.

    Web pages, PDFs, Word files, Markdown and text, JSON/JSON Lines exports and feeds are read;
    files of other kinds are named, not read. Documents are named by their collection and
    their path in the folder (a fetched one by its link), so two folders holding files of the
    same name never overwrite each other. A URL is fetched politely (robots.txt, a User-Agent
    naming quotedesk, conditional requests: an unchanged feed costs one 304).
    """
    with common.user_errors():
        desk = common.open_desk(data_dir)
        if target is not None and is_web_address(target):
            if prune:
                raise click.UsageError("--prune takes a folder, not a URL")
            with make_fetcher(desk, allow_private=allow_private) as fetcher:
                common.ingest_url_with_progress(
                    desk, target, fetcher=fetcher, collection=collection, max_pages=max_pages
                )
            return
        folder = Path(target) if target is not None else common.default_seeds()
        common.ingest_with_progress(desk, folder, prune=prune, collection=collection)


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
