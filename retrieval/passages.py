"""Cutting documents into passages the encoder reads whole.

all-MiniLM-L6-v2 reads at most 256 word pieces and was trained on shorter inputs, so passages
are packed from paragraphs up to :data:`MAX_PASSAGE_TOKENS`; longer paragraphs are cut at
sentence boundaries (at word boundaries for a run-on sentence), never truncated. Short
fragments (captions, stray headlines) are joined to the paragraph that follows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retrieval.documents import Document
from retrieval.sentences import sentence_spans, word_spans

# Leaves room for the [CLS]/[SEP] tokens and a short title prefix within the model's 256.
MAX_PASSAGE_TOKENS = 200
# Paragraphs are packed together up to this many tokens (the model was trained on 128).
TARGET_PASSAGE_TOKENS = 128  # the length the encoder was trained on
# Fewer words than this and a fragment is not a passage on its own.
MIN_PASSAGE_WORDS = 25
# A first paragraph this short, on one line, is the document's title.
MAX_TITLE_WORDS = 25

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class PassageSpan:
    """Character offsets of one passage in its document's text."""

    start: int
    end: int


def find_title(doc: Document) -> tuple[str | None, list[tuple[int, int]]]:
    """Split off a title line: a short, single-line first paragraph followed by more text."""
    paragraphs = doc.paragraphs()
    if len(paragraphs) > 1:
        start, end = paragraphs[0]
        first = doc.text[start:end]
        if "\n" not in first and len(first.split()) <= MAX_TITLE_WORDS:
            return first, paragraphs[1:]
    return None, paragraphs


def split_passages(
    text: str,
    paragraphs: list[tuple[int, int]],
    count_tokens: TokenCounter,
    *,
    max_tokens: int = MAX_PASSAGE_TOKENS,
    target_tokens: int = TARGET_PASSAGE_TOKENS,
    min_words: int = MIN_PASSAGE_WORDS,
) -> list[PassageSpan]:
    """Pack paragraphs into passages of at most ``max_tokens`` tokens each.

    Args:
        text: The document's text.
        paragraphs: Paragraph spans into ``text``.
        count_tokens: Counts the encoder's tokens in a string (without special tokens).
        max_tokens: Upper bound on a passage's tokens.
        target_tokens: Consecutive paragraphs are joined while they stay within this.
        min_words: Fragments with fewer words are joined to a neighbour.
    """
    units: list[tuple[int, int, int]] = []  # start, end, tokens
    for start, end in paragraphs:
        units.extend(_fit(text, start, end, count_tokens, max_tokens))

    merged: list[list[int]] = []
    for start, end, tokens in units:
        if merged:
            last = merged[-1]
            short = _words(text, last[0], last[1]) < min_words
            fits = last[2] + tokens <= (max_tokens if short else target_tokens)
            if fits:
                last[1], last[2] = end, last[2] + tokens
                continue
        merged.append([start, end, tokens])
    # A short trailing fragment joins the passage before it when it fits.
    if len(merged) > 1:
        tail, before = merged[-1], merged[-2]
        if _words(text, tail[0], tail[1]) < min_words and before[2] + tail[2] <= max_tokens:
            before[1], before[2] = tail[1], before[2] + tail[2]
            merged.pop()
    return [PassageSpan(start, end) for start, end, _ in merged]


def _words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def _fit(
    text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int, int]]:
    """Cut one paragraph into pieces of at most ``max_tokens``: sentences, then words."""
    tokens = count_tokens(text[start:end])
    if tokens <= max_tokens:
        return [(start, end, tokens)]
    pieces: list[tuple[int, int, int]] = []
    for s_start, s_end in sentence_spans(text, start, end):
        s_tokens = count_tokens(text[s_start:s_end])
        if s_tokens <= max_tokens:
            pieces.append((s_start, s_end, s_tokens))
        else:
            pieces.extend(_pack(text, word_spans(text, s_start, s_end), count_tokens, max_tokens))
    return _pack(text, [(a, b) for a, b, _ in pieces], count_tokens, max_tokens)


def _pack(
    text: str, spans: list[tuple[int, int]], count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int, int]]:
    """Greedily join consecutive spans while the joined text stays within ``max_tokens``."""
    packed: list[tuple[int, int, int]] = []
    for start, end in spans:
        if packed:
            p_start, _, _ = packed[-1]
            joined = count_tokens(text[p_start:end])
            if joined <= max_tokens:
                packed[-1] = (p_start, end, joined)
                continue
        tokens = count_tokens(text[start:end])
        if tokens > max_tokens:
            # One "word" longer than the limit (a URL, a run of symbols): cut by characters.
            packed.extend(_cut_chars(text, start, end, count_tokens, max_tokens))
            continue
        packed.append((start, end, tokens))
    return packed


def _cut_chars(
    text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int, int]]:
    pieces = []
    while start < end:
        stop = end
        while count_tokens(text[start:stop]) > max_tokens:
            stop = start + max(1, (stop - start) // 2)
        pieces.append((start, stop, count_tokens(text[start:stop])))
        start = stop
    return pieces


def lexical_text(title: str | None, passage: str) -> str:
    """The text BM25 indexes for a passage: its document's title helps name the story."""
    return f"{title}\n{passage}" if title else passage
