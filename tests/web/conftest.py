"""Fixtures of the fetching tests: the local site, and a fetcher with tight bounds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.web.cache import MemoryCache
from retrieval.web.fetch import FetchConfig, Fetcher
from tests.web.site import Site

# Tight bounds, so a test that goes wrong fails in seconds; no proxies from the environment;
# the site is on 127.0.0.1, which a default fetcher refuses.
TEST_CONFIG = FetchConfig(
    connect_timeout=2.0, timeout=5.0, trust_env=False, allow_private_addresses=True
)


@pytest.fixture
def site() -> Iterator[Site]:
    """The local site, started, with no pages yet (robots.txt absent: everything allowed)."""
    with Site() as running:
        yield running


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
def fetcher(cache: MemoryCache) -> Iterator[Fetcher]:
    """A fetcher with :data:`TEST_CONFIG` and an in-memory cache."""
    with Fetcher(config=TEST_CONFIG, cache=cache) as made:
        yield made
