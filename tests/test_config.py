"""One configuration: every weight and limit, overridable by name."""

from __future__ import annotations

import dataclasses

import pytest

from retrieval.errors import InvalidArgumentError, UserError
from retrieval.tuning import Mode, RetrievalConfig, parse_mode


def test_overrides_are_read_as_each_fields_type():
    config = RetrievalConfig().with_overrides(
        ["dense_weight=0.5", "candidates=80", "mode=lexical", "min-similarity=0.3"]
    )
    assert (config.dense_weight, config.candidates, config.mode) == (0.5, 80, Mode.LEXICAL)
    assert config.min_similarity == 0.3
    assert RetrievalConfig().with_overrides(["strip_time_words=false"]).strip_time_words is False
    assert RetrievalConfig().with_overrides(["strip_time_words=yes"]).strip_time_words is True
    assert RetrievalConfig().dense_weight == 0.6  # the default is untouched


@pytest.mark.parametrize(
    "bad", ["nope=1", "dense_weight", "candidates=many", "mode=fuzzy", "strip_time_words=maybe"]
)
def test_bad_overrides_are_user_errors(bad):
    with pytest.raises(UserError):
        RetrievalConfig().with_overrides([bad])


def test_every_field_has_a_default_and_is_frozen():
    config = RetrievalConfig()
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(config))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.dense_weight = 1.0  # type: ignore[misc]
    assert config.to_dict()["mode"] == "hybrid"


def test_k_limits():
    config = RetrievalConfig()
    assert config.check_k(1) == 1 and config.check_k(config.max_k) == config.max_k
    for bad in (0, config.max_k + 1, True, "3"):
        with pytest.raises(InvalidArgumentError):
            config.check_k(bad)  # type: ignore[arg-type]


def test_modes():
    assert parse_mode("Dense") is Mode.DENSE and parse_mode(Mode.HYBRID) is Mode.HYBRID
    with pytest.raises(InvalidArgumentError, match="dense, lexical, hybrid"):
        parse_mode("semantic")
