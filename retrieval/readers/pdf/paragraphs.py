"""A PDF's lines joined into paragraphs, with a break where the layout shows one: a wider gap
than the line spacing, a change of type size, a short line the next word would have fitted
on, a first-line indent, a bullet."""

from __future__ import annotations

import re
from collections import defaultdict

from retrieval.readers.pdf.hyphens import FIRST_WORD, join_lines, vocabulary_of
from retrieval.readers.pdf.lines import Line

__all__ = ["into_paragraphs", "same_size"]

# A gap between two lines wider than the line spacing by this much is a paragraph break
# (space after a paragraph is rarely under a fifth of a line; the rounding of positions is a
# hundredth of it).
_GAP = 1.15
_SAME_SIZE = 0.1
# A line is short when it and the next line's first word are under this share of a full
# line: the word would have fitted, so the line ended a paragraph (or was broken by hand).
# Lengths are counted in characters, which vary some 10% in width in proportional type.
_SHORT = 0.85
# Lines of one size needed to know how long a full one is.
_FULL_LINE_SAMPLE = 8
# A first-line indent is at least this share of the type size (an em is 1.0; tabs are wider).
_INDENT = 0.8
# Bullet glyphs; not a dash, which a wrapped line may start with ("... – which").
_BULLET = re.compile(r"[•●▪◦■□➢►✓]\s")
_SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*\Z")


def into_paragraphs(lines: list[Line]) -> list[str]:
    """The lines joined into paragraphs, breaking where the layout shows a break."""
    if not lines:
        return []
    pitch = _line_spacing(lines)
    full = _full_lines(lines)
    vocabulary, hyphenated = vocabulary_of(lines)
    paragraphs: list[str] = []
    current: list[str] = [lines[0].text]
    for i in range(1, len(lines)):
        prev, line = lines[i - 1], lines[i]
        after = lines[i + 1] if i + 1 < len(lines) else None
        if _breaks(prev, line, after, pitch, full):
            paragraphs.append(join_lines(current, vocabulary, hyphenated))
            current = []
        current.append(line.text)
    paragraphs.append(join_lines(current, vocabulary, hyphenated))
    return paragraphs


def _size_key(size: float) -> float:
    return round(size, 1)


def _line_spacing(lines: list[Line]) -> dict[float, float]:
    """The distance between two lines of a paragraph, for each size of type.

    The smallest common distance: most docs have more lines within paragraphs than between,
    but a list of one-line paragraphs may not, so not the median.
    """
    gaps: defaultdict[float, list[float]] = defaultdict(list)
    for prev, line in zip(lines, lines[1:], strict=False):
        dy = prev.y - line.y
        if (
            prev.page == line.page
            and same_size(prev.size, line.size)
            and 0 < dy < 3 * max(line.size, 1.0)
        ):
            gaps[_size_key(line.size)].append(dy)
    pitch: dict[float, float] = {}
    for size, found in gaps.items():
        found.sort()
        low = found[len(found) // 10]
        close = [d for d in found if d <= low * 1.1]
        pitch[size] = close[len(close) // 2]
    return pitch


def _full_lines(lines: list[Line]) -> dict[float, float]:
    """How many characters a full line holds, for each size of type set in enough lines to
    tell (a long line, not the longest: a URL may run past the margin)."""
    lengths: defaultdict[float, list[int]] = defaultdict(list)
    for line in lines:
        lengths[_size_key(line.size)].append(len(line.text))
    return {
        size: float(sorted(found)[int(len(found) * 0.9)])
        for size, found in lengths.items()
        if len(found) >= _FULL_LINE_SAMPLE
    }


def same_size(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` are one size of type (within a tenth of the larger)."""
    return abs(a - b) <= max(a, b) * _SAME_SIZE


def _breaks(
    prev: Line,
    line: Line,
    after: Line | None,
    pitch: dict[float, float],
    full: dict[float, float],
) -> bool:
    """Whether ``line`` starts a paragraph after ``prev`` (``after`` is the line after it)."""
    if not same_size(prev.size, line.size):
        return True
    if _BULLET.match(line.text):
        return True
    size = _size_key(line.size)
    spacing = pitch.get(size, 1.2 * line.size)
    dy = prev.y - line.y
    below = prev.page == line.page and 0 < dy <= spacing * _GAP  # the next line of a column
    if prev.page == line.page and dy > spacing * _GAP:
        return True
    # A short line the next word would have fitted on ended its paragraph.
    width = full.get(size, 0.0)
    if width and len(prev.text) < width:
        next_word = len(FIRST_WORD.match(line.text).group())  # type: ignore[union-attr]
        if len(prev.text) + 1 + next_word < width * _SHORT:
            return True
    # A first-line indent: the line starts right of the line below it (at the top of a page
    # or column too), and of the line above unless that is in the same column and indented as
    # much (a block quote's last line); or right of the line above that ended a sentence.
    indent = _INDENT * line.size
    if (
        after is not None
        and after.page == line.page
        and 0 < line.y - after.y <= spacing * _GAP
        and line.x - after.x >= indent
        and (not below or line.x - prev.x >= indent)
    ):
        return True
    return below and line.x - prev.x >= indent and bool(_SENTENCE_END.search(prev.text))
