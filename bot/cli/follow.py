"""``quotedesk follow FEED_OR_FOLDER…``: keep collections current as articles are published."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

from bot.cli import common, settings
from bot.cli.fetching import fetch_options, make_fetcher


@click.command()
@settings.follow_targets_argument
@click.option(
    "--every",
    default="15m",
    show_default=True,
    metavar="INTERVAL",
    help="How often URLs are fetched again (30s, 15m, 1h; conditional requests make an "
    "unchanged feed one 304). Folders are watched, not polled.",
)
@click.option(
    "--collection",
    metavar="NAME",
    help="The collection every target goes into  [default: each folder's, each URL's host]",
)
@click.option(
    "--once", is_flag=True, help="Ingest every target once and stop (a cron job, a release)."
)
@fetch_options
@common.data_dir_option
def follow(
    targets: tuple[str, ...],
    every: str,
    collection: str | None,
    once: bool,
    max_pages: int,
    allow_private: bool,
    data_dir: Path | None,
) -> None:
    """Keep collections current: feeds, pages and sitemaps (URLs) are fetched again every
    INTERVAL, folders are watched and ingested when files change. New and changed articles
    are ingested; nothing unchanged is fetched or encoded twice, across restarts too.

    Without targets, follows the space-separated targets in QUOTEDESK_FOLLOW, else seeds/.
    Stops on Ctrl-C (or SIGTERM) after the ingest under way.
    """
    from retrieval.web.follow import follow as run_follow
    from retrieval.web.follow import parse_interval, split_targets

    try:
        interval = parse_interval(every)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    chosen = list(targets) or [str(common.default_seeds())]
    try:
        split_targets(chosen)  # a typo fails here, before anything is opened
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FEED_OR_FOLDER") from None
    with common.user_errors():
        desk = common.open_desk(data_dir)
        with make_fetcher(desk, allow_private=allow_private) as fetcher:

            def ingest_url(url: str) -> object:
                return common.ingest_url_with_progress(
                    desk, url, fetcher=fetcher, collection=collection, max_pages=max_pages
                )

            def ingest_folder(folder: Path) -> object:
                return common.ingest_with_progress(desk, folder, collection=collection)

            def on_error(target: str, exc: Exception) -> None:
                common.notice(f"warning: {target}: {exc}", level=logging.WARNING, style="yellow")

            common.notice("following " + ", ".join(chosen) + ("" if once else f", every {every}"))
            stop = threading.Event()
            # A platform stops a worker with SIGTERM: finish the ingest under way (an ingest
            # cut short is safe, but then done again), then leave.
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            run_follow(
                chosen,
                every=interval,
                ingest_url=ingest_url,
                ingest_folder=ingest_folder,
                stop=stop,
                max_rounds=1 if once else None,
                on_error=on_error,
            )
