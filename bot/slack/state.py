"""What a button carries: the question and the page it shows, in the button's value, so any
copy of the bot (or a restarted one) can act on any click."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from retrieval.query import clean_question
from retrieval.tuning import RetrievalConfig

# Slack's limit on a button value.
MAX_VALUE = 2000
# Longer questions are cut to this so their button state fits in MAX_VALUE even when JSON
# escapes every character; the encoder reads about 256 word pieces of it anyway.
MAX_QUESTION = 450
# Quotes a page may ask for: the core's one limit.
MAX_K = RetrievalConfig().max_k
# The deepest page a button may ask for: "More quotes" clicked some hundreds of times. A
# forged offset beyond it would have every click rank the whole corpus.
MAX_OFFSET = 1000


class InvalidStateError(ValueError):
    """A button value this bot did not write: forged, or from a version with another format."""


def day_of(ts: str | None) -> date | None:
    """The (UTC) day of a Slack message timestamp such as ``"1701302400.000100"``.

    Example:
        >>> day_of("1701302400.000100")
        datetime.date(2023, 11, 30)
    """
    try:
        return datetime.fromtimestamp(float(ts or ""), UTC).date()
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class AnswerState:
    """One page of quotes for a question.

    Example:
        >>> state = AnswerState("why?", offset=3, k=3)
        >>> state.value()
        '{"q":"why?","o":3,"k":3,"p":[]}'
        >>> AnswerState.parse(state.value()) == state
        True
    """

    question: str
    offset: int = 0
    k: int = 3
    passages: tuple[int, ...] = ()
    # The moment of asking, so "this week" on the next page is still the week it was asked in.
    as_of: date | None = None
    # The question's record in the bot's store (its thread, hence the earlier questions a
    # follow-up was read with): a button then reads the next page as the first was read.
    asked: int | None = None

    def value(self) -> str:
        data: dict[str, object] = {
            "q": self.question[:MAX_QUESTION],
            "o": self.offset,
            "k": self.k,
            "p": list(self.passages),
        }
        if self.as_of:
            data["d"] = self.as_of.isoformat()
        if self.asked is not None:
            data["a"] = self.asked
        return json.dumps(data, separators=(",", ":"))

    def next_page(self) -> AnswerState:
        return AnswerState(
            self.question,
            offset=self.offset + self.k,
            k=self.k,
            as_of=self.as_of,
            asked=self.asked,
        )

    @classmethod
    def parse(cls, value: object) -> AnswerState:
        """The state in a button's value, which arrives from outside: a question that could
        not have been written here is cleaned and cut as this bot would have.

        Raises:
            InvalidStateError: ``value`` is not a state this bot wrote.
        """
        if not isinstance(value, str):
            raise InvalidStateError(f"not a quotedesk button value: {value!r:.80}")
        try:
            data = json.loads(value)
            passages = data.get("p", ())
            if not isinstance(passages, list) or len(passages) > MAX_K:
                raise ValueError("passages")
            state = cls(
                question=clean_question(str(data["q"]))[:MAX_QUESTION],
                offset=_whole(data["o"]),
                k=_whole(data["k"]),
                passages=tuple(_whole(p) for p in passages),
                as_of=date.fromisoformat(data["d"]) if data.get("d") else None,
                asked=_whole(data["a"]) if data.get("a") is not None else None,
            )
        except (TypeError, KeyError, ValueError, AttributeError, RecursionError):
            # No chained traceback: a forged value is logged as one line (see deliver).
            raise InvalidStateError(f"not a quotedesk button value: {value[:80]!r}") from None
        if not 0 <= state.offset <= MAX_OFFSET or not 1 <= state.k <= MAX_K:
            raise InvalidStateError(f"button value out of range: {value[:80]!r}")
        return state


def _whole(value: object) -> int:
    # JSON numbers only: int("9" * 5000) would raise, 1e308 would overflow, True is no count.
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**53:
        raise ValueError(value)
    return value
