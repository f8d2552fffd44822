"""A PDF page's text as positioned lines: pypdf gives the text in the order it is drawn; a
visitor records where each line starts and its size of type."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.readers.base import clean_line

__all__ = ["Line", "body_size", "page_lines"]

# pypdf writes ligatures as the ligature characters; the text keeps the letters.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st", "\u200b": ""}
)


@dataclass
class Line:
    """One line of a page: its text, where it starts, its (most used) size of type, and the
    number of its page."""

    text: str
    x: float
    y: float
    size: float
    page: int


def page_lines(page: Any, number: int) -> list[Line]:
    """The page's lines, each with where it starts and its (most used) size of type.

    pypdf calls the visitor with each run of text it emits, with the matrices in force where
    the run starts; the runs put together are the page's text, ``\\n`` between lines.
    """
    runs: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], _font: Any, size: Any) -> None:
        if not text:
            return
        # Where the run starts on the page, and its type size: the text matrix times the CTM.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3])
        runs.append((text, x, y, abs(float(size or 0)) * (scale or 1.0)))

    page.extract_text(visitor_text=visit)
    lines: list[Line] = []
    parts: list[str] = []
    where: tuple[float, float] | None = None
    sizes: Counter[float] = Counter()

    def close() -> None:
        text = clean_line("".join(parts).translate(_LIGATURES))
        if text and where is not None:
            size = sizes.most_common(1)[0][0] if sizes else 0.0
            lines.append(Line(text, where[0], where[1], size, number))

    for text, x, y, size in runs:
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                close()
                parts, where, sizes = [], None, Counter()
            if piece.strip():
                parts.append(piece)
                if where is None:
                    where = (x, y)
                sizes[round(size, 1)] += len(piece.strip())
            elif piece:
                parts.append(piece)
    close()
    return lines


def body_size(pages: list[list[Line]]) -> float:
    """The size of type most of the text is in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0
