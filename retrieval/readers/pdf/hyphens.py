"""The lines of a PDF's paragraph joined on one line, and a word hyphenated across a line end
joined again (a compound, "well-known", keeps its hyphen)."""

from __future__ import annotations

import re

from retrieval.readers.pdf.lines import Line

__all__ = ["FIRST_WORD", "join_lines", "vocabulary_of"]

FIRST_WORD = re.compile(r"[^\s]*")
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Words that are the head or tail of a hyphenated compound far more often than a syllable
# of a longer word: a line ending "well-" before "known" keeps its hyphen without evidence
# from the document itself.
_COMPOUND_HEADS = frozenset(
    {
        "well", "self", "so", "ex", "non", "anti", "pro", "post", "mid", "multi", "cross",
        "long", "short", "high", "low", "full", "half", "all", "ever", "far", "ill", "one",
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first",
        "second", "third", "last", "year", "day", "week", "month", "time", "world", "record",
        "top", "hard", "old", "new", "semi", "vice", "best", "worst",
    }
)  # fmt: skip
_COMPOUND_TAILS = frozenset(
    {
        "known", "based", "related", "term", "old", "year", "years", "time", "called", "like",
        "free", "led", "run", "owned", "made", "up", "level", "style", "wide", "scale", "class",
        "sized", "born", "friendly", "minded", "long", "profile", "ranking", "winning",
        "standing", "looking", "making", "going", "century",
    }
)  # fmt: skip


def vocabulary_of(lines: list[Line]) -> tuple[set[str], set[str]]:
    """The document's words, and its hyphenated compounds, as written inside its lines."""
    words: set[str] = set()
    compounds: set[str] = set()
    for line in lines:
        found = _WORDS.findall(line.text.casefold())
        # The last word of a line ending in a hyphen is half a word: not evidence.
        if line.text.endswith("-") and found:
            found.pop()
        for word in found:
            if "-" in word:
                compounds.add(word)
                words.update(word.split("-"))
            else:
                words.add(word)
    return words, compounds


def join_lines(lines: list[str], vocabulary: set[str], hyphenated: set[str]) -> str:
    """The lines of one paragraph on one line (built in parts: a paragraph may be long)."""
    parts = [lines[0]]
    for left, right in zip(lines, lines[1:], strict=False):
        drop, separator = _seam(left, right, vocabulary, hyphenated)
        if drop:
            parts[-1] = parts[-1][:-1]
        parts.append(separator)
        parts.append(right)
    return "".join(parts)


def _glue(left: str, right: str, vocabulary: set[str], hyphenated: set[str]) -> str:
    """Two lines of one paragraph joined."""
    return join_lines([left, right], vocabulary, hyphenated)


def _seam(left: str, right: str, vocabulary: set[str], hyphenated: set[str]) -> tuple[bool, str]:
    """How the line ``right`` follows ``left``: whether ``left``'s last character goes (a
    hyphen the layout added), and what comes between (a space, or nothing)."""
    if left.endswith("\u00ad"):  # a soft hyphen: always a break inside a word
        return True, ""
    if left.endswith(("—", "–", "/")) and not left[-2:-1].isspace():
        return False, ""  # "plan—\nwhich": the dash joins the words, no space was there
    last = left.rsplit(None, 1)[-1]
    if last.endswith("-") and last[-2:-1] not in ("", "-") and right[:1].isalnum():
        tail = FIRST_WORD.match(right).group()  # type: ignore[union-attr]
        return not _keeps_hyphen(last[:-1], tail, vocabulary, hyphenated), ""
    return False, " "


def _keeps_hyphen(head: str, tail: str, vocabulary: set[str], hyphenated: set[str]) -> bool:
    """Whether ``head-`` at a line end and ``tail`` on the next are a hyphenated compound
    ("well-known", "U.S.-hosted") rather than one word broken by the layout ("inter-national").
    """
    left = head.rsplit("-", 1)[-1]  # "state-of-the-" → "the"
    right = re.match(r"[^\W\d_]*", tail).group()  # type: ignore[union-attr]
    lower_left, lower_right = left.casefold(), right.casefold()
    joined = lower_left + lower_right
    if lower_left and lower_right:
        if f"{lower_left}-{lower_right}" in hyphenated:
            return True
        if joined in vocabulary:
            return False
    if not right or not right[0].islower():
        return True  # "anti-\nAmerican", "Covid-\n19"
    if "-" in head or not left.isalpha() or not left.islower():
        return True  # "U.S.-", "Covid-", "COVID-", "state-of-the-"
    if lower_left in _COMPOUND_HEADS or lower_right in _COMPOUND_TAILS:
        return True
    # Both halves standalone words of the document: a compound of two words.
    return len(left) > 1 and lower_left in vocabulary and lower_right in vocabulary
