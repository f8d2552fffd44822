"""Ranking: the candidates in order, and whether any is close enough to quote."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.answering.question import Question
from retrieval.answering.retrieve import Found
from retrieval.rank import Candidate, abstains, asks_only_for_time, fuse
from retrieval.tuning import RetrievalConfig


@dataclass(frozen=True)
class Ranking:
    """The candidates, best first, and whether to quote them (else they are only related)."""

    candidates: list[Candidate]
    answered: bool


def rank(question: Question, found: Found, *, config: RetrievalConfig) -> Ranking:
    """``found``'s candidates scored as ``question``'s mode says, its time words and wish for
    recent news weighed (:func:`retrieval.rank.fuse`), and the decision to abstain
    (:func:`retrieval.rank.abstains`)."""
    ranked = fuse(
        found.candidates,
        config=config,
        mode=question.mode,
        prefer_recent=question.query.prefer_recent,
        period=question.period,
    )
    period = question.period
    only_for = period if asks_only_for_time(found.asked, period) else None
    return Ranking(ranked, answered=not abstains(ranked, config=config, only_for=only_for))
