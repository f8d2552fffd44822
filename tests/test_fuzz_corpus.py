"""The corpus loader on random bytes and text (hypothesis): it raises nothing but
:class:`UnreadableFileError`, and the passages it cuts are verbatim, ordered, trimmed slices
that lose none of the text and keep to the encoder's limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (the profile, before any @settings)
from retrieval.documents import Document, UnreadableFileError, parse_document
from retrieval.passages import MAX_PASSAGE_TOKENS, find_title, split_passages

# Fuzzing runs for a bounded time: the full suite, not the fast tier.
pytestmark = pytest.mark.slow

# Bounded: a few hundred examples, none allowed to take seconds.
FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)

# Text shaped like documents (words, punctuation, blank lines, a date header) as well as any
# text at all: either way, nothing but UnreadableFileError may come out.
_PIECES = st.sampled_from(
    [
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        ". ",
        "? ",
        "Mr. ",
        "U.S. ",
        '"',
        "”",
        " date 2023-11-28 ",
        "date 2023-13-45",
        "\ufeff",
        "\x00",
        "\x1b[31m",
        "\u202e",
        "🙂",
        "👩‍👩‍👧",
    ]
)
_WORDS = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12)
DOCUMENT_TEXT = st.lists(st.one_of(_PIECES, _WORDS), max_size=120).map("".join)
ANY_TEXT = st.text(max_size=2000)


def check_document(doc: Document, data: bytes) -> None:
    assert 0 <= doc.body_start <= len(doc.text)
    assert "\r" not in doc.text
    assert doc.text[doc.body_start :].strip()
    position = doc.body_start
    for start, end in doc.paragraphs():
        assert position <= start < end <= len(doc.text)
        paragraph = doc.text[start:end]
        # (A one-character paragraph runs on into the next: _PARAGRAPH's optional group is
        # greedy. Harmless for passages, which join short fragments to the next anyway.)
        assert paragraph and paragraph == paragraph.strip()
        position = end
    assert len(doc.content_hash) == 64


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_are_a_document_or_unreadable(data: bytes) -> None:
    try:
        doc = parse_document("fuzz.txt", data)
    except UnreadableFileError:
        return
    check_document(doc, data)


@FUZZ
@given(st.one_of(DOCUMENT_TEXT, ANY_TEXT))
def test_random_text_is_a_document_or_unreadable(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    try:
        doc = parse_document("fuzz.txt", data)
    except UnreadableFileError as exc:
        # Only what the loader promises to refuse.
        assert str(exc) in {"empty file", "binary file (contains NUL bytes)"} or "UTF-8" in str(exc)
        return
    check_document(doc, data)


# Token counters that, like the real tokenizer (which splits on whitespace first), count a
# text joined at whitespace as the sum of its parts.


def word_tokens(text: str) -> int:
    return len(text.split())


def character_tokens(text: str) -> int:
    # Stricter: every visible character is a token, so long words and runs of symbols must be
    # cut by characters.
    return sum(not c.isspace() for c in text)


@FUZZ
@given(
    st.one_of(DOCUMENT_TEXT, ANY_TEXT),
    st.sampled_from([word_tokens, character_tokens]),
    st.sampled_from([MAX_PASSAGE_TOKENS, 12]),
)
def test_every_passage_is_a_verbatim_slice_and_nothing_is_lost(
    text: str, count_tokens: object, max_tokens: int
) -> None:
    try:
        doc = parse_document("fuzz.txt", text.encode("utf-8", "surrogatepass"))
    except UnreadableFileError:
        return
    _, paragraphs = find_title(doc)
    passages = split_passages(
        doc.text,
        paragraphs,
        count_tokens,  # type: ignore[arg-type]
        max_tokens=max_tokens,
        target_tokens=min(max_tokens, 128),
    )
    covered: set[int] = set()
    position = 0
    for passage in passages:
        # Ordered, not overlapping, within the text, trimmed: a quote is exactly the source.
        assert position <= passage.start < passage.end <= len(doc.text)
        quote = doc.text[passage.start : passage.end]
        assert quote == quote.strip()
        assert count_tokens(quote) <= max_tokens  # type: ignore[operator]
        covered.update(range(passage.start, passage.end))
        position = passage.end
    # Every visible character of every paragraph is in some passage.
    for start, end in paragraphs:
        lost = [i for i in range(start, end) if not doc.text[i].isspace() and i not in covered]
        assert not lost, f"characters {lost[:5]} of {doc.text[start:end]!r} are in no passage"
