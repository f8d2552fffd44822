"""A PDF's furniture: lines repeated at the top or bottom of most pages (running headers and
footers, numbers masked so "Page 3 of 7" repeats), page numbers, small type in the page's
outer margin."""

from __future__ import annotations

import math
import re
from collections import defaultdict

from retrieval.readers.pdf.lines import Line

__all__ = ["drop_furniture"]

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


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.casefold())


def _stamped_on(page: list[Line], i: int, line: Line, body: float) -> bool:
    """A line in the margin, not in body type, drawn after lines it stands above: a letterhead
    or a stamp put on the page after its text (which, on a one-page file, no repetition
    shows). A column's first line is drawn after lines it stands above too, but in body type."""
    drawn_before = page[:i]
    return (
        bool(drawn_before)
        and abs(line.size - body) > body * (1 - _SMALLER)
        and line.y > max(earlier.y for earlier in drawn_before)
    )


def drop_furniture(
    pages: list[list[Line]], heights: list[tuple[float, float]], body: float
) -> tuple[list[Line], list[Line]]:
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
    kept: list[Line] = []
    dropped: list[Line] = []
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
            if in_margin and _stamped_on(page, i, line, body):
                dropped.append(line)
                continue
            kept.append(line)
    first_page = min((line.page for line in dropped + kept), default=0)
    return kept, [line for line in dropped if line.page == first_page]
