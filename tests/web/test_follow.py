"""follow: URLs polled (conditionally), folders watched, failures reported and survived,
stopping; parse_interval."""

from __future__ import annotations

import _thread
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrieval.web.fetch import Fetched, Fetcher, FetchError
from retrieval.web.follow import follow, is_watched_file, parse_interval, split_targets
from tests.web.site import Page, Site

# Every wait on the watcher is bounded by this; it usually takes a few hundred milliseconds.
WAIT = 5.0


def never(_: object) -> None:
    raise AssertionError("not expected to be called")


@contextlib.contextmanager
def following(**kwargs: object) -> Iterator[threading.Thread]:
    """``follow(**kwargs)`` in a thread for the ``with`` block, stopped by its stop event at the
    block's end (and waited for, at most WAIT seconds)."""
    stop = threading.Event()
    thread = threading.Thread(target=follow, kwargs={**kwargs, "stop": stop}, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(WAIT)


def watching(
    folder: Path, ingest_folder: Callable[[Path], None], *, debounce: float = 0.1, **kwargs: object
) -> contextlib.AbstractContextManager[threading.Thread]:
    """:func:`following` one folder and nothing else (its hourly round never comes), a change
    ingested after ``debounce`` seconds and 0.05 s of quiet."""
    return following(
        targets=[str(folder)],
        every=60.0,
        ingest_url=never,
        ingest_folder=ingest_folder,
        debounce=debounce,
        quiet=0.05,
        **kwargs,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder to watch."""
    path = tmp_path / "corpus"
    path.mkdir()
    return path


class Calls:
    """Records calls, and lets a test wait for the n-th."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self._changed = threading.Condition()

    def __call__(self, item: object) -> None:
        with self._changed:
            self.seen.append(item)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.seen) >= count, timeout)


# -- parse_interval -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900.0),
        ("90s", 90.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1.5h", 5400.0),
        ("1h30m", 5400.0),
        (" 15M ", 900.0),
        ("1 h", 3600.0),
    ],
)
def test_parse_interval(text: str, seconds: float):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("15", "has no unit: write 15s, 15m, 15h or 15d"),
        ("", "no interval given"),
        ("15 minutes", "cannot read the interval '15 minutes'"),
        ("15w", "cannot read"),
        ("-5m", "cannot read"),
        ("0m", "is zero"),
        ("400d", "more than a year"),
        ("m", "cannot read"),
    ],
)
def test_parse_interval_refuses_with_a_hint(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_interval(text)


# -- targets ------------------------------------------------------------------------------


def test_targets_are_split_and_checked_before_anything_starts(tmp_path: Path):
    (tmp_path / "file.txt").write_text("x")
    urls, folders = split_targets(
        ["https://news.test/feed#x", str(tmp_path), "https://news.test/feed", str(tmp_path)]
    )
    assert (urls, folders) == (["https://news.test/feed"], [tmp_path])
    with pytest.raises(ValueError) as caught:
        split_targets(
            ["ftp://news.test/feed", str(tmp_path / "missing"), str(tmp_path / "file.txt")]
        )
    message = str(caught.value)
    assert "not an http(s) URL (ftp:)" in message
    assert "missing: no such folder" in message
    assert "file.txt: a file" in message
    with pytest.raises(ValueError, match="nothing to follow"):
        split_targets([])


def test_bad_arguments_fail_at_once(tmp_path: Path):
    with pytest.raises(ValueError, match="every"):
        follow([str(tmp_path)], every=0, ingest_url=never, ingest_folder=never)
    with pytest.raises(ValueError, match="max_rounds"):
        follow([str(tmp_path)], every=1, ingest_url=never, ingest_folder=never, max_rounds=0)
    with pytest.raises(ValueError, match="file:"):
        follow(["file:///etc/passwd"], every=1, ingest_url=never, ingest_folder=never)


# -- URLs -----------------------------------------------------------------------------------


def test_a_url_is_polled_each_round_and_an_unchanged_feed_costs_a_304(site: Site, fetcher: Fetcher):
    site.pages["/feed.xml"] = Page("<rss/>", content_type="application/rss+xml", etag='"1"')
    results: list[Fetched] = []

    follow(
        [site.url("/feed.xml")],
        every=0.05,
        ingest_url=lambda url: results.append(fetcher.fetch(url)),
        ingest_folder=never,
        max_rounds=2,
    )
    assert [r.status for r in results] == [200, 304]
    assert [r.path for r in site.requests] == ["/robots.txt", "/feed.xml", "/feed.xml"]
    assert site.requests[-1].headers["if-none-match"] == '"1"'


def test_one_failing_url_never_stops_the_others(site: Site, fetcher: Fetcher):
    site.pages["/down"] = Page("oops", status=503)
    site.pages["/up"] = Page("fine")
    errors: list[tuple[str, Exception]] = []
    fetched: list[str] = []

    def ingest(url: str) -> None:
        if url.endswith("/crash"):
            raise RuntimeError("a bug in the ingest")
        fetched.append(fetcher.fetch(url).url)

    follow(
        [site.url("/down"), site.url("/crash"), site.url("/up")],
        every=0.01,
        ingest_url=ingest,
        ingest_folder=never,
        max_rounds=3,
        on_error=lambda target, exc: errors.append((target, exc)),
    )
    assert fetched == [site.url("/up")] * 3
    assert [target for target, _ in errors] == [site.url("/down"), site.url("/crash")] * 3
    assert isinstance(errors[0][1], FetchError) and errors[0][1].status == 503


def test_a_reporter_that_fails_is_survived(site: Site, fetcher: Fetcher):
    calls: list[str] = []

    def ingest(url: str) -> None:
        calls.append(url)
        raise FetchError(url, "down")

    def bad_reporter(target: str, exc: Exception) -> None:
        raise RuntimeError("the reporter broke")

    follow(
        [site.url("/a")],
        every=0.01,
        ingest_url=ingest,
        ingest_folder=never,
        max_rounds=2,
        on_error=bad_reporter,
    )
    assert len(calls) == 2


def test_stop_cuts_the_wait_between_polls_short(site: Site):
    calls = Calls()
    with following(
        targets=[site.url("/a")], every=3600.0, ingest_url=calls, ingest_folder=never
    ) as thread:
        assert calls.wait_for(1)
        started = time.monotonic()
    assert not thread.is_alive() and time.monotonic() - started < 2
    assert len(calls.seen) == 1


# -- folders --------------------------------------------------------------------------------


@pytest.mark.slow  # waits on the file watcher in real time
def test_a_folder_is_ingested_at_the_start_and_after_each_change(folder: Path):
    (folder / "first.txt").write_text("first")
    calls = Calls()
    with watching(folder, calls, debounce=0.2) as thread:
        assert calls.wait_for(1), "no ingest at the start"
        (folder / "second.txt").write_text("second")
        assert calls.wait_for(2), "the new file was not noticed"
        (folder / "sub").mkdir()
        (folder / "sub" / "third.md").write_text("third")
        assert calls.wait_for(3), "a file in a subfolder was not noticed"
        assert calls.seen == [folder] * len(calls.seen)
    assert not thread.is_alive(), "the stop event did not end the watcher"


@pytest.mark.slow  # waits on the file watcher in real time
def test_hidden_and_temporary_files_are_not_worth_an_ingest(folder: Path):
    calls = Calls()
    with watching(folder, calls):
        assert calls.wait_for(1)
        (folder / ".hidden.txt").write_text("x")
        (folder / ".git").mkdir()
        (folder / ".git" / "index").write_text("x")
        (folder / "draft.txt.tmp").write_text("x")
        (folder / "~$report.docx").write_text("x")
        assert not calls.wait_for(2, timeout=0.5)
        (folder / "real.txt").write_text("x")
        assert calls.wait_for(2)


def test_is_watched_file():
    root = Path("/home/desk/.config/corpus")  # a hidden folder above the root is fine
    assert is_watched_file(root / "a.txt", root)
    assert is_watched_file(root / "2024" / "b.pdf", root)
    for name in (".a.txt", ".git/HEAD", "x.swp", "x.txt~", "x.part", "~$x.docx", "#x.txt#"):
        assert not is_watched_file(root / name, root), name


@pytest.mark.slow  # waits on the file watcher in real time
def test_a_failing_folder_ingest_is_reported_and_watching_goes_on(folder: Path):
    errors = Calls()
    attempts = Calls()

    def ingest(path: Path) -> None:
        attempts(path)
        raise RuntimeError("the database is locked")

    with watching(folder, ingest, on_error=lambda target, exc: errors((target, str(exc)))):
        assert errors.wait_for(1)
        (folder / "new.txt").write_text("x")
        assert attempts.wait_for(2) and errors.wait_for(2)
        assert errors.seen[0] == (str(folder), "the database is locked")


@pytest.mark.slow  # waits on the file watcher in real time
def test_max_rounds_one_ingests_everything_once_and_returns(tmp_path: Path, site: Site):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
    urls = Calls()
    ingested = Calls()
    started = time.monotonic()
    follow(
        [site.url("/feed"), *map(str, folders)],
        every=3600.0,
        ingest_url=urls,
        ingest_folder=ingested,
        max_rounds=1,
    )
    assert urls.seen == [site.url("/feed")]
    assert sorted(map(str, ingested.seen)) == sorted(map(str, folders))
    assert time.monotonic() - started < 2


@pytest.mark.slow  # waits on the file watcher in real time
def test_urls_and_folders_together_stop_on_the_event(tmp_path: Path, site: Site):
    urls = Calls()
    folders = Calls()
    with following(
        targets=[site.url("/feed"), str(tmp_path)],
        every=0.05,
        ingest_url=urls,
        ingest_folder=folders,
    ) as thread:
        assert urls.wait_for(3) and folders.wait_for(1)
    assert not thread.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("quotedesk-follow")]


@pytest.mark.slow  # waits on the file watcher in real time
def test_ctrl_c_stops_every_thread_and_returns(tmp_path: Path, site: Site):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C is delivered to the main thread only")
    urls = Calls()
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        follow(
            [site.url("/feed"), str(tmp_path)], every=3600.0, ingest_url=urls, ingest_folder=urls
        )
    finally:
        timer.cancel()
    assert len(urls.seen) == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("quotedesk-follow")]
