"""Sentence boundaries with character offsets (a small rule-based splitter for news text)."""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … (plus closing quotes/brackets) followed by space and an
# opening quote or capital/digit; single newlines inside a paragraph also end one.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])|\s*\n\s*")
# Abbreviations that end with a period but rarely end a sentence in news text.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "prof",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "pres",
        "vs",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "inc",
        "corp",
        "co",
        "ltd",
    ]
)
_WORD = re.compile(r"\S+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentence spans (offsets into ``text``), trimmed.

    Example:
        >>> s = "Baku withdrew. The U.S. said so."
        >>> [s[a:b] for a, b in sentence_spans(s)]
        ['Baku withdrew.', 'The U.S. said so.']
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        cut = match.start()
        if "\n" not in match.group() and _ends_with_abbreviation(text, cursor, cut):
            continue
        _append_trimmed(text, cursor, _after_closers(text, cut, match.end()), spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the whitespace-separated words in ``text[start:end]``."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]


def _after_closers(text: str, cut: int, limit: int) -> int:
    # Keep closing quotes and brackets with the sentence they close.
    while cut < limit and text[cut] in '"”’)]':
        cut += 1
    return cut


def _ends_with_abbreviation(text: str, start: int, cut: int) -> bool:
    words = text[start:cut].rsplit(None, 1)
    if not words:
        return False
    last = words[-1].rstrip(".").lower().lstrip('“"‘(')
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
