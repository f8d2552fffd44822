"""PDF files: the text layer, re-joined into the article's paragraphs.

pypdf gives each page's text line by line in the order it is drawn; a visitor records where
each line starts and its size of type. From those:

- furniture is dropped: lines repeated at the top or bottom of most pages (running headers and
  footers, numbers masked so "Page 3 of 7" repeats), page numbers, small type in the page's
  outer margin;
- the title (metadata, else the large type atop page 1) and the date (a "Published ..." line
  on page 1, else the file's CreationDate) are taken out of the text;
- lines are joined into paragraphs, with a break where the layout shows one: a wider gap than
  the line spacing, a change of type size, a short line the next word would have fitted on, a
  first-line indent, a bullet; a word hyphenated across a line end is joined again.

A file that cannot be read raises :class:`UnreadableFileError` naming why (a scan, encrypted,
damaged, too many pages, too much text); nothing else escapes.
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError
from pypdf.generic import DictionaryObject

from retrieval.readers.base import Article, Extraction, UnreadableFileError, clean_line
from retrieval.readers.dates import DATE_LABEL, date_within, parse_date
from retrieval.readers.limits import MAX_BINARY_BYTES, MAX_EXTRACTED_CHARS, MAX_PDF_PAGES

# -- furniture --
# Lines looked at for running headers/footers: this many at each edge of a page (a header may
# be a name over a section line).
_EDGE_LINES = 3
# A line is a running header/footer when it is on at least this share of the pages (an
# alternating left/right header is on half of them) and on two pages at least.
_REPEATED_SHARE = 0.4
# The page's outer margin, as a share of its height: type smaller than the body's there is a
# header, a footer or a page stamp. Body text may reach into it (a 20 mm margin is 6.7% of an
# A4 page), so small type and position together are needed.
_MARGIN_SHARE = 0.07
_SMALLER = 0.9
_PAGE_NUMBER = re.compile(
    r"(?:page|p\.|pg\.?|seite|página|pagina)?\s*#+(?:\s*(?:of|/|von|de|sur)\s*#+)?"
    r"|[-–—]\s*#+\s*[-–—]|#+\s*\|.*|.*\|\s*#+",
    re.IGNORECASE,
)

# -- paragraphs --
# A gap between two lines wider than the line spacing by this much is a paragraph break
# (space after a paragraph is rarely under a fifth of a line; the rounding of positions is a
# hundredth of it).
_GAP = 1.15
# Type this much larger than the body's is a heading: its own paragraph.
_HEADING = 1.15
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
# pypdf writes ligatures as the ligature characters; the text keeps the letters.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st", "\u200b": ""}
)

# -- hyphens at line ends --
_FIRST_WORD = re.compile(r"[^\s]*")
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

# -- title and date on page 1 --
_FIRST_PAGE_LINES = 12
# Titles a PDF writer fills in by itself: not the document's title.
_MADE_UP_TITLE = re.compile(
    r"(?:untitled|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|indd|rtf|"
    r"txt|html?|odt|pages|tex))\Z",
    re.IGNORECASE,
)
_MAX_TITLE_CHARS = 300
# Lines above the title on page 1 dropped with it: a header, a section label, a kicker.
_ABOVE_TITLE = 3


@dataclass
class _Line:
    text: str
    x: float
    y: float
    size: float
    page: int


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The article in the PDF whose bytes are ``data`` (one per file).

    Raises:
        UnreadableFileError: A scan, encrypted, damaged, too long, or no text in it.
    """
    if len(data) > MAX_BINARY_BYTES:
        raise UnreadableFileError(f"larger than {MAX_BINARY_BYTES:,} bytes")
    with _quiet_pypdf():
        reader = _open(data)
        pages, heights = _read_lines(reader)
        meta_title, meta_date = _metadata(reader)
    if not any(line.text for page in pages for line in page):
        raise UnreadableFileError("a scan: no text layer (OCR it first)")
    body = _body_size(pages)
    lines, furniture = _drop_furniture(pages, heights, body)
    # A "Published ..." line in a page-1 header or footer says the date as well (a bare date
    # there may be when the page was printed: not taken).
    written_date = _take_date_line(lines) or _labelled_date(furniture)
    title = _take_title(lines, meta_title, body)
    paragraphs = _paragraphs(lines)
    if not any(any(c.isalnum() for c in p) for p in paragraphs):
        raise UnreadableFileError("a scan: no text layer (OCR it first)")
    # The date written in the document is its publication date; CreationDate is when the PDF
    # was made, which for an article printed or archived later is another day.
    article = Article.from_paragraphs(paragraphs, title=title, date=written_date or meta_date)
    return Extraction(articles=[article])


# -- opening --


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = logging.NOTSET


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf's warnings about damaged files kept out of the terminal for this call only.

    pypdf logs them on its own loggers (``pypdf._reader``, ...), which inherit the level of
    ``pypdf``; concurrent calls share one raise of that level and the last one out restores it.
    """
    global _quiet_depth, _quiet_saved
    logger = logging.getLogger("pypdf")
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = logger.level
            logger.setLevel(logging.CRITICAL + 1)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.setLevel(_quiet_saved)


def _open(data: bytes) -> PdfReader:
    try:
        # strict=False: pypdf rebuilds a broken cross-reference table by scanning the file.
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        # The page tree's own count first: a file claiming 10,000 pages is refused before
        # pypdf walks the tree.
        tree = reader.root_object.get("/Pages")
        tree = tree.get_object() if tree is not None else None
        claimed = tree.get("/Count") if isinstance(tree, DictionaryObject) else None
        if isinstance(claimed, int) and claimed > MAX_PDF_PAGES:
            raise _too_many(claimed)
        count = len(reader.pages)
    except UnreadableFileError:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise UnreadableFileError(f"a damaged PDF: {_describe(error)}") from error
    if count > MAX_PDF_PAGES:
        raise _too_many(count)
    if count == 0:
        raise UnreadableFileError("a damaged PDF: no pages")
    return reader


def _decrypt(reader: PdfReader) -> None:
    """Opens a PDF encrypted with an empty user password, as every viewer does without asking.

    Such a file is locked against editing or printing, not reading; one that needs a password
    to open is not read.
    """
    try:
        opened = reader.decrypt("")
    except DependencyError as error:
        raise _needs_aes() from error
    except Exception as error:
        raise UnreadableFileError(f"encrypted: {_describe(error)}") from error
    if not opened:
        raise UnreadableFileError("encrypted: it needs a password to open")


def _needs_aes() -> UnreadableFileError:
    return UnreadableFileError(
        "encrypted: with AES, which needs the cryptography package (not installed) to open"
    )


def _too_many(count: int) -> UnreadableFileError:
    return UnreadableFileError(f"{count:,} pages, more than the {MAX_PDF_PAGES:,} read")


def _describe(error: BaseException) -> str:
    text = clean_line(str(error))[:200]
    return text or type(error).__name__


def _metadata(reader: PdfReader) -> tuple[str | None, date | None]:
    try:
        meta = reader.metadata
        if meta is None:
            return None, None
        title = meta.title
        try:
            created = meta.creation_date
        except Exception:  # a malformed date string
            created = None
    except Exception:
        return None, None
    title = clean_line(title) if isinstance(title, str) else ""
    usable = title if title and not _MADE_UP_TITLE.match(title) else None
    return usable, parse_date(created) if created else None


# -- lines --


def _read_lines(reader: PdfReader) -> tuple[list[list[_Line]], list[tuple[float, float]]]:
    """Each page's lines in drawing order, and each page's (bottom, top)."""
    pages: list[list[_Line]] = []
    heights: list[tuple[float, float]] = []
    chars = 0
    failed: Exception | None = None
    for number, page in enumerate(reader.pages):
        try:
            lines = _page_lines(page, number)
            box = page.cropbox  # the visible page
            heights.append((float(box.bottom), float(box.top)))
        except DependencyError as error:  # AES-encrypted strings and streams
            raise _needs_aes() from error
        except Exception as error:  # one damaged page: the others are still read
            failed = error
            continue
        pages.append(lines)
        chars += sum(len(line.text) for line in lines)
        if chars > MAX_EXTRACTED_CHARS:
            raise UnreadableFileError(
                f"more than {MAX_EXTRACTED_CHARS:,} characters of text: not an article"
            )
    if not pages and failed is not None:
        raise UnreadableFileError(f"a damaged PDF: {_describe(failed)}")
    return pages, heights


def _page_lines(page: Any, number: int) -> list[_Line]:
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
    lines: list[_Line] = []
    parts: list[str] = []
    where: tuple[float, float] | None = None
    sizes: Counter[float] = Counter()

    def close() -> None:
        text = clean_line("".join(parts).translate(_LIGATURES))
        if text and where is not None:
            size = sizes.most_common(1)[0][0] if sizes else 0.0
            lines.append(_Line(text, where[0], where[1], size, number))

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


def _body_size(pages: list[list[_Line]]) -> float:
    """The size of type most of the text is in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


# -- furniture --


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.casefold())


def _drop_furniture(
    pages: list[list[_Line]], heights: list[tuple[float, float]], body: float
) -> tuple[list[_Line], list[_Line]]:
    """The pages' lines without running headers and footers, page numbers and margin stamps;
    and those dropped from the first page."""
    edges: list[set[int]] = []
    seen: defaultdict[str, set[int]] = defaultdict(set)
    for number, page in enumerate(pages):
        order = sorted(range(len(page)), key=lambda i: -page[i].y)
        edge = set(order[:_EDGE_LINES] + order[-_EDGE_LINES:])
        edges.append(edge)
        for i in edge:
            seen[_furniture_key(page[i].text)].add(number)
    needed = max(2, math.ceil(_REPEATED_SHARE * len(pages)))
    repeated = {key for key, on in seen.items() if len(on) >= needed}
    kept: list[_Line] = []
    dropped: list[_Line] = []
    for number, page in enumerate(pages):
        bottom, top = heights[number]
        margin = (top - bottom) * _MARGIN_SHARE
        outermost = {max(line.y for line in page), min(line.y for line in page)} if page else set()
        for i, line in enumerate(page):
            in_margin = line.y > top - margin or line.y < bottom + margin
            if i in edges[number]:
                key = _furniture_key(line.text)
                # A number alone is a page number at the edge of the page, not in a title
                # ("... Conference in" over "2024").
                number_alone = _PAGE_NUMBER.fullmatch(key) is not None
                if key in repeated or (number_alone and (in_margin or line.y in outermost)):
                    dropped.append(line)
                    continue
            if in_margin and line.size < body * _SMALLER:
                dropped.append(line)
                continue
            kept.append(line)
    first_page = min((line.page for line in dropped + kept), default=0)
    return kept, [line for line in dropped if line.page == first_page]


# -- title and date --


def _take_date_line(lines: list[_Line]) -> date | None:
    """The date of a "Published ..." (or a bare date) line atop page 1, the line removed."""
    first_page = lines[0].page if lines else 0
    for i, line in enumerate(lines[:_FIRST_PAGE_LINES]):
        if line.page != first_page:
            break
        label = DATE_LABEL.match(line.text)
        rest = line.text[label.end() :] if label else line.text
        if not label and len(rest) > 40:
            continue
        found = (parse_date(rest) or date_within(rest)) if label else parse_date(rest)
        if found:
            del lines[i]
            return found
    return None


def _labelled_date(lines: list[_Line]) -> date | None:
    for line in lines:
        label = DATE_LABEL.match(line.text)
        if label:
            found = parse_date(line.text[label.end() :]) or date_within(line.text)
            if found:
                return found
    return None


def _comparable(text: str) -> str:
    return clean_line(text).casefold()


def _take_title(lines: list[_Line], meta_title: str | None, body: float) -> str | None:
    """The title: the metadata's, its lines atop page 1 removed (with what is above them, a
    header); without one, the large type that opens page 1."""
    first_page = lines[0].page if lines else 0
    top = [line for line in lines[:_FIRST_PAGE_LINES] if line.page == first_page]
    if meta_title:
        wanted = _comparable(meta_title)
        for start in range(len(top)):
            joined = ""
            for end in range(start, len(top)):
                joined = _comparable(f"{joined} {top[end].text}")
                if joined == wanted:
                    # A few lines above the title are a header or a section label.
                    del lines[0 if start <= _ABOVE_TITLE else start : end + 1]
                    return meta_title
                if not wanted.startswith(joined):
                    break
        return meta_title
    # No title in the metadata: the largest type atop page 1, when it is heading type (a
    # letterhead or a section label above it is smaller, and goes with it).
    head = top[: _ABOVE_TITLE + 1]
    if not head or body <= 0:
        return None
    largest = max(line.size for line in head)
    if largest < body * _HEADING:
        return None
    start = next(i for i, line in enumerate(head) if _same_size(line.size, largest))
    end = start
    while end < len(top) and _same_size(top[end].size, largest):
        end += 1
    title = clean_line(_join([line.text for line in top[start:end]], set(), set()))
    if len(title) > _MAX_TITLE_CHARS:
        return None
    del lines[:end]
    return title


# -- paragraphs --


def _paragraphs(lines: list[_Line]) -> list[str]:
    """The lines joined into paragraphs, breaking where the layout shows a break."""
    if not lines:
        return []
    pitch = _line_spacing(lines)
    full = _full_lines(lines)
    vocabulary, hyphenated = _vocabulary(lines)
    paragraphs: list[str] = []
    current: list[str] = [lines[0].text]
    for i in range(1, len(lines)):
        prev, line = lines[i - 1], lines[i]
        after = lines[i + 1] if i + 1 < len(lines) else None
        if _breaks(prev, line, after, pitch, full):
            paragraphs.append(_join(current, vocabulary, hyphenated))
            current = []
        current.append(line.text)
    paragraphs.append(_join(current, vocabulary, hyphenated))
    return paragraphs


def _size_key(size: float) -> float:
    return round(size, 1)


def _line_spacing(lines: list[_Line]) -> dict[float, float]:
    """The distance between two lines of a paragraph, for each size of type.

    The smallest common distance: most docs have more lines within paragraphs than between,
    but a list of one-line paragraphs may not, so not the median.
    """
    gaps: defaultdict[float, list[float]] = defaultdict(list)
    for prev, line in zip(lines, lines[1:], strict=False):
        dy = prev.y - line.y
        if (
            prev.page == line.page
            and _same_size(prev.size, line.size)
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


def _full_lines(lines: list[_Line]) -> dict[float, float]:
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


def _same_size(a: float, b: float) -> bool:
    return abs(a - b) <= max(a, b) * _SAME_SIZE


def _breaks(
    prev: _Line,
    line: _Line,
    after: _Line | None,
    pitch: dict[float, float],
    full: dict[float, float],
) -> bool:
    """Whether ``line`` starts a paragraph after ``prev`` (``after`` is the line after it)."""
    if not _same_size(prev.size, line.size):
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
        next_word = len(_FIRST_WORD.match(line.text).group())  # type: ignore[union-attr]
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


# -- joining lines --


def _vocabulary(lines: list[_Line]) -> tuple[set[str], set[str]]:
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


def _join(lines: list[str], vocabulary: set[str], hyphenated: set[str]) -> str:
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
    return _join([left, right], vocabulary, hyphenated)


def _seam(left: str, right: str, vocabulary: set[str], hyphenated: set[str]) -> tuple[bool, str]:
    """How the line ``right`` follows ``left``: whether ``left``'s last character goes (a
    hyphen the layout added), and what comes between (a space, or nothing)."""
    if left.endswith("\u00ad"):  # a soft hyphen: always a break inside a word
        return True, ""
    if left.endswith(("—", "–", "/")) and not left[-2:-1].isspace():
        return False, ""  # "plan—\nwhich": the dash joins the words, no space was there
    last = left.rsplit(None, 1)[-1]
    if last.endswith("-") and last[-2:-1] not in ("", "-") and right[:1].isalnum():
        tail = _FIRST_WORD.match(right).group()  # type: ignore[union-attr]
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
