"""Answering a question, in four stages :meth:`retrieval.QuoteDesk.ask` runs in turn, each a
function of what the one before made:

1. :func:`~retrieval.answering.question.read_question`: the question checked and cleaned, its
   filters and time words read (:class:`~retrieval.answering.question.Question`);
2. :func:`~retrieval.answering.retrieve.retrieve`: the passages either index finds, with their
   evidence (:class:`~retrieval.answering.retrieve.Found`);
3. :func:`~retrieval.answering.ranking.rank`: the candidates in order, and whether any is close
   enough to quote (:class:`~retrieval.answering.ranking.Ranking`);
4. :func:`~retrieval.answering.quotes.answer`: the page of quotes with their highlights, or the
   related sources (:class:`~retrieval.Answer`).
"""
