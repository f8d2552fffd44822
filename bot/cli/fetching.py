"""What ``quotedesk ingest URL`` and ``quotedesk follow`` share: the fetch options and a
fetcher whose conditional requests are remembered in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.cli import settings

if TYPE_CHECKING:
    from retrieval.engine import QuoteDesk
    from retrieval.web.fetch import Fetcher

F = TypeVar("F", bound=Callable[..., Any])


def is_web_address(target: str) -> bool:
    """Whether ``target`` names a URL to fetch rather than a folder or file."""
    return target.lower().startswith(("http://", "https://"))


def fetch_options(func: F) -> F:
    """``--max-pages`` and ``--allow-private-addresses``."""
    func = settings.allow_private_option(func)
    return click.option(
        "--max-pages",
        type=click.IntRange(min=1),
        default=1000,
        show_default=True,
        help="Pages fetched from one sitemap or feed in a run; the rest come the next run.",
    )(func)


def make_fetcher(desk: QuoteDesk, *, allow_private: bool) -> Fetcher:
    """A fetcher that remembers validators in the desk's database."""
    from retrieval.web.cache import StoreFetchCache
    from retrieval.web.fetch import FetchConfig, Fetcher

    return Fetcher(
        config=FetchConfig(allow_private_addresses=allow_private),
        cache=StoreFetchCache(desk.store),
    )
