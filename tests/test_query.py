"""Reading a question's filters."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.errors import QueryError, UserError
from retrieval.query import Query


def test_filters_and_recency_are_read_and_removed_from_the_words():
    query = Query.parse("latest news on Baku since:2023-01-01 before:2023-06-30")
    assert query.text == "latest news on Baku"
    assert (query.since, query.before, query.prefer_recent) == (
        date(2023, 1, 1),
        date(2023, 6, 30),
        True,
    )
    assert query.admits(date(2023, 6, 30)) and not query.admits(date(2023, 7, 1))
    assert not query.admits(None)
    assert Query.parse("in the last three years").prefer_recent is False


def test_after_and_until_are_since_and_before():
    query = Query.parse("Baku after:2023-01-01 until:2023-02-01")
    assert (query.since, query.before) == (date(2023, 1, 1), date(2023, 2, 1))


def test_an_unreadable_date_is_a_user_error_naming_the_format():
    with pytest.raises(QueryError, match="YYYY-MM-DD") as caught:
        Query.parse("Baku since:yesterday")
    assert isinstance(caught.value, UserError)
