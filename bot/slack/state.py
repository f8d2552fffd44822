"""What a button carries: the question and the page it shows, in the button's value, so any
copy of the bot (or a restarted one) can act on any click."""

from __future__ import annotations

import json
from dataclasses import dataclass

# Slack's limit on a button value.
MAX_VALUE = 2000
# Longer questions are cut to this so their button state fits in MAX_VALUE even when JSON
# escapes every character; the encoder reads about 256 word pieces of it anyway.
MAX_QUESTION = 450


@dataclass(frozen=True)
class AnswerState:
    """One page of quotes for a question.

    Example:
        >>> AnswerState.parse(AnswerState("why?", offset=3, k=3).value())
        AnswerState(question='why?', offset=3, k=3, passages=())
    """

    question: str
    offset: int = 0
    k: int = 3
    passages: tuple[int, ...] = ()

    def value(self) -> str:
        return json.dumps(
            {
                "q": self.question[:MAX_QUESTION],
                "o": self.offset,
                "k": self.k,
                "p": list(self.passages),
            },
            separators=(",", ":"),
        )

    def next_page(self) -> AnswerState:
        return AnswerState(self.question, offset=self.offset + self.k, k=self.k)

    @classmethod
    def parse(cls, value: str) -> AnswerState:
        """Raises ValueError when ``value`` is not a state this bot wrote."""
        try:
            data = json.loads(value)
            state = cls(
                question=str(data["q"]),
                offset=int(data["o"]),
                k=int(data["k"]),
                passages=tuple(int(p) for p in data.get("p", ())),
            )
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"not a quotedesk button value: {value[:80]!r}") from exc
        if state.offset < 0 or not 1 <= state.k <= 20:
            raise ValueError(f"button value out of range: {value[:80]!r}")
        return state
