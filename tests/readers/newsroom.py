"""The newsroom-2022 set, for the readers' slow tests: where it is, its truth rows, the
paragraphs of each article's plain-text twin, and :func:`measure`, one reader's figures on
one kind of file of the set.

The set lies beside the repository (``../shared/eval/newsroom-2022``): ``corpus/`` holds the
files (a web page, PDF, Word file or Markdown note per article; JSON exports and feeds of
several articles each), ``truth.jsonl`` a row per article (its file, format, url, date, title
and the furniture lines of its page), ``txt/rtqa_<key>.txt`` its text as plain paragraphs.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from retrieval.readers import Article, read_articles

FOLDER = Path(__file__).resolve().parents[2].parent / "shared/eval/newsroom-2022"

# For a slow test of the set: skipped where the set is not.
required = pytest.mark.skipif(not FOLDER.is_dir(), reason="the newsroom-2022 set is not here")

# Formats whose files hold several articles each, told apart by their links.
SEVERAL_ARTICLES = frozenset({"jsonl", "rss"})

# Twin paragraphs shorter than this (a byline, "AP", a rule) are not counted.
MIN_PARAGRAPH = 40


def _normal(text: str) -> str:
    return " ".join(text.split())


def truth(fmt: str) -> list[dict]:
    """The truth rows of the articles in ``fmt`` files ("html", "pdf", "docx", "md", "jsonl",
    "rss")."""
    with (FOLDER / "truth.jsonl").open(encoding="utf-8") as rows:
        return [row for row in map(json.loads, rows) if row["format"] == fmt]


def twin_paragraphs(key: str) -> list[str]:
    """The paragraphs of an article's plain-text twin, on one line each, without its first line
    (date and title) and without the short ones."""
    twin = (FOLDER / "txt" / f"rtqa_{key}.txt").read_text(encoding="utf-8")
    paragraphs = (_normal(p) for p in re.split(r"\n\s*\n", twin.partition("\n")[2]))
    return [p for p in paragraphs if len(p) >= MIN_PARAGRAPH]


@dataclass(frozen=True)
class Figures:
    """One reader's figures on one format of the set.

    Attributes:
        articles: How many articles the truth has in that format.
        date, title, url: The share of them read with the date, title and link the truth
            gives (the link: the one in the file; PDFs and Word files have none).
        chrome: How many of their pages' furniture lines are in the texts (wanted: none).
        paragraphs: The share of the twins' paragraphs found inside one paragraph of the text
            (one glued to the next is found, a split one is not).
        skipped: Records the reader skipped in the files read.
        ms: Reading time per article, in milliseconds.
    """

    articles: int
    date: float
    title: float
    url: float
    chrome: int
    paragraphs: float
    skipped: int
    ms: float


def _pair(fmt: str, rows: list[dict], articles: list[Article]) -> list[tuple[dict, Article]]:
    """Each truth row of one file with its article: the file's only article, or in a file of
    several the one with the row's link, every article found exactly once."""
    name = rows[0]["file"]
    if fmt not in SEVERAL_ARTICLES:
        assert len(rows) == len(articles) == 1, f"{name}: {len(articles)} articles, not one"
        return [(rows[0], articles[0])]
    by_url = {article.url: article for article in articles}
    urls = sorted(article.url or "" for article in articles)
    assert urls == sorted(row["url"] for row in rows), f"{name}: not the truth's articles"
    return [(row, by_url[row["url"]]) for row in rows]


def measure(fmt: str) -> Figures:
    """The reader of ``fmt`` files (through :func:`read_articles`) on the set's files of that
    format, against the truth rows and the plain-text twins."""
    rows = truth(fmt)
    assert rows, f"no {fmt} articles in the truth"
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_file[row["file"]].append(row)
    dates = titles = urls = chrome = twin = found = skipped = 0
    elapsed = 0.0
    for name, file_rows in by_file.items():
        data = (FOLDER / "corpus" / name).read_bytes()
        started = time.perf_counter()
        extraction = read_articles(name, data)
        elapsed += time.perf_counter() - started
        skipped += len(extraction.skipped)
        for row, article in _pair(fmt, file_rows, extraction.articles):
            dates += (article.date.isoformat() if article.date else None) == row["date"]
            titles += article.title == row["title"]
            urls += article.url == row["url"]
            text = _normal(article.text)
            chrome += sum(_normal(line) in text for line in row["chrome"])
            ours = [_normal(p) for p in article.text.split("\n\n")]
            for paragraph in twin_paragraphs(row["key"]):
                twin += 1
                found += any(paragraph in p for p in ours)
    return Figures(
        articles=len(rows),
        date=dates / len(rows),
        title=titles / len(rows),
        url=urls / len(rows),
        chrome=chrome,
        paragraphs=found / twin,
        skipped=skipped,
        ms=elapsed / len(rows) * 1000,
    )
