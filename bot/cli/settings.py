"""The command line's own settings from the environment, read here and nowhere else in
``bot/cli``. Each variable is the default of the option (or argument) it stands in for: a flag
wins over it, click parses and checks it (a bad value is a usage error naming the option, exit
2), and ``--help`` shows the option's default.

- ``serve``: ``PORT`` (``--port``), ``WEB_CONCURRENCY`` (``--workers``), ``QUOTEDESK_THREADS``
  (``--threads``);
- ``socket``: ``PORT`` (``--port``: where ``/metrics`` and ``/healthz`` are served, if set);
- ``ingest URL`` and ``follow``: ``QUOTEDESK_FETCH_PRIVATE`` (``--allow-private-addresses``);
- ``follow``: ``QUOTEDESK_FOLLOW`` (its targets, separated by spaces);
- every command (options of the ``quotedesk`` group): ``QUOTEDESK_LOG_FORMAT``
  (``--log-format``), ``QUOTEDESK_LOG_QUESTIONS`` (``--log-questions``).

The core's settings (data directory, database, model, encoder and its cache) are read by
:meth:`retrieval.settings.Settings.resolve` alone, the Slack app's (credentials, the Web API's
address, retention) by :meth:`bot.slack.config.SlackConfig.from_env` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from bot.logs import FORMATS

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


def socket_options(func: F) -> F:
    """``--host`` and ``--port`` (``PORT``; none by default) of ``socket``'s ``/metrics``."""
    func = click.option(
        "--host",
        default="0.0.0.0",
        show_default=True,
        help="Address to serve /metrics and /healthz on, with --port.",
    )(func)
    return click.option(
        "--port",
        envvar="PORT",
        default=None,
        type=click.IntRange(0, 65535),
        help="Serve GET /metrics and GET /healthz on this port (env PORT); none when unset.",
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


def log_options(func: F) -> F:
    """``--log-format`` (``QUOTEDESK_LOG_FORMAT``) and ``--log-questions``
    (``QUOTEDESK_LOG_QUESTIONS``), for :func:`bot.logs.configure`."""
    func = click.option(
        "--log-questions",
        is_flag=True,
        envvar="QUOTEDESK_LOG_QUESTIONS",
        help="Also log what people ask, the quotes and Slack user ids, and the Slack "
        "libraries' DEBUG records (their payloads). Off by default: those are personal data "
        "(env QUOTEDESK_LOG_QUESTIONS=1).",
    )(func)
    return click.option(
        "--log-format",
        type=click.Choice(FORMATS, case_sensitive=False),
        envvar="QUOTEDESK_LOG_FORMAT",
        default="text",
        show_default=True,
        help="How log lines are written: text, or json (one object a line, with time, level, "
        "logger, message, the Slack event id and the corpus version; gunicorn's logs too) "
        "(env QUOTEDESK_LOG_FORMAT).",
    )(func)
