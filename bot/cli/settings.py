"""The command line's own settings from the environment, read here and nowhere else in
``bot/cli``. Each variable is the default of the option (or argument) it stands in for: a flag
wins over it, click parses and checks it (a bad value is a usage error naming the option, exit
2), and ``--help`` shows the option's default.

- ``serve``: ``PORT`` (``--port``), ``WEB_CONCURRENCY`` (``--workers``), ``QUOTEDESK_THREADS``
  (``--threads``);
- ``ingest URL`` and ``follow``: ``QUOTEDESK_FETCH_PRIVATE`` (``--allow-private-addresses``);
- ``follow``: ``QUOTEDESK_FOLLOW`` (its targets, separated by spaces).

The core's settings (data directory, database, model, encoder and its cache) are read by
:meth:`retrieval.settings.Settings.resolve` alone, the Slack app's (credentials, the Web API's
address, retention) by :meth:`bot.slack.config.SlackConfig.from_env` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def serve_options(func: F) -> F:
    """``--port``, ``--workers`` and ``--threads`` (``PORT``, ``WEB_CONCURRENCY``,
    ``QUOTEDESK_THREADS``)."""
    func = click.option(
        "--threads",
        envvar="QUOTEDESK_THREADS",
        default=4,
        show_default=True,
        type=click.IntRange(1, 256),
        help="Threads per worker (env QUOTEDESK_THREADS).",
    )(func)
    func = click.option(
        "--workers",
        envvar="WEB_CONCURRENCY",
        default=1,
        show_default=True,
        type=click.IntRange(1, 64),
        help="Worker processes, each with its own copy of the model (env WEB_CONCURRENCY).",
    )(func)
    return click.option(
        "--port", envvar="PORT", default=3000, show_default=True, type=int, help="Port (env PORT)."
    )(func)


def allow_private_option(func: F) -> F:
    """``--allow-private-addresses`` (``QUOTEDESK_FETCH_PRIVATE``)."""
    return click.option(
        "--allow-private-addresses",
        "allow_private",
        is_flag=True,
        envvar="QUOTEDESK_FETCH_PRIVATE",
        help="Also fetch from loopback and private addresses (an intranet's feed). Off by "
        "default: a feed names the pages fetched next, and a hostile one could point at this "
        "host's own network (env QUOTEDESK_FETCH_PRIVATE).",
    )(func)


def follow_targets_argument(func: F) -> F:
    """``follow``'s targets: those given, else the space-separated ones in
    ``QUOTEDESK_FOLLOW`` (none when it is unset or blank)."""
    return click.argument(
        "targets", nargs=-1, metavar="[FEED_OR_FOLDER]...", envvar="QUOTEDESK_FOLLOW"
    )(func)
