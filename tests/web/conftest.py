"""Fixtures of the fetching tests: a fetcher with tight bounds. (The local site, ``site``, is
in ``tests/conftest.py``: the CLI's tests serve it too.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from retrieval.web.cache import MemoryCache
from retrieval.web.fetch import Fetcher
from tests.web.helpers import TEST_CONFIG


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
def fetcher(cache: MemoryCache) -> Iterator[Fetcher]:
    """A fetcher with :data:`TEST_CONFIG` and an in-memory cache."""
    with Fetcher(config=TEST_CONFIG, cache=cache) as made:
        yield made
