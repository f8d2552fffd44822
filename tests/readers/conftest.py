"""The readers' tests' fixtures."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from retrieval.readers.base import Article


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("p", "br", "li", "h1", "h2", "div"):
            self.found.append("")

    def handle_data(self, data: str) -> None:
        self.found[-1] += data


def _fallback_article_from_html(html: str | bytes, **meta: object) -> Article:
    """Stands in for the web reader where it is not there: <p> text, nothing clever."""
    parser = _Paragraphs()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return Article.from_paragraphs(parser.found, **meta)  # type: ignore[arg-type]


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The web reader, which the export and feed readers hand HTML bodies to: the real one when
    it can be imported, else a minimal stand-in."""
    try:
        importlib.import_module("retrieval.readers.web")
    except ImportError:
        fake = types.ModuleType("retrieval.readers.web")
        fake.article_from_html = _fallback_article_from_html  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "retrieval.readers.web", fake)
    yield
