"""The loop behind ``quotedesk follow FEED_OR_FOLDER... [--every 15m]``.

URLs are polled every ``every`` seconds, one after another, by one thread: each poll is the
caller's ``ingest_url``, which fetches through a :class:`~retrieval.web.fetch.Fetcher` with a
cache, so an unchanged feed costs one ``304 Not Modified``. Folders are watched, not polled
(watchfiles: inotify, FSEvents, ReadDirectoryChangesW), one thread each: ingested once at the
start and again after each batch of changes, hidden and temporary files aside.

A target that fails is reported (``on_error``) and tried again at its next turn; the others go
on. ``stop`` (or Ctrl-C in the calling thread) ends every thread cleanly: a wait is cut short,
an ingest under way is finished.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from retrieval.errors import QuotedeskError
from retrieval.web.urls import check_url

__all__ = ["follow", "is_watched_file", "parse_interval", "split_targets"]

log = logging.getLogger(__name__)

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INTERVAL = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A year: longer is a typo, and threading's waits overflow somewhere past 292 years.
_MAX_INTERVAL = 365 * 86400.0
# How often a folder's watcher wakes with nothing to report (its first wake starts the first
# ingest: the watcher is already running then, so a file saved during that ingest is seen).
_WATCH_TICK_MS = 250
# A watcher that failed (its folder gone, the inotify limit reached) is started again after
# this long.
_RETRY_SECONDS = 10.0
# Temporary files: editors' swap and backup files, downloads and copies in progress, Office's
# lock files. Their final file is what counts.
_TEMP_SUFFIXES = (
    ".tmp",
    ".temp",
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".swp",
    ".swo",
    ".swx",
    "~",
)
_TEMP_PREFIXES = ("~$", ".~lock.", "#")


def parse_interval(text: str) -> float:
    """Seconds in an interval like ``"15m"``, ``"90s"``, ``"1.5h"``, ``"1d"`` or ``"1h30m"``.

    Raises:
        ValueError: No unit, an unknown unit, zero, or more than a year; the message shows
            what is accepted.
    """
    raw = text.strip().lower().replace(" ", "")
    hint = "write a number and a unit: 90s, 15m, 1h or 1d"
    if not raw:
        raise ValueError(f"no interval given: {hint}")
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        raise ValueError(f"interval {text!r} has no unit: write {raw}s, {raw}m, {raw}h or {raw}d")
    if not _INTERVAL.fullmatch(raw):
        raise ValueError(f"cannot read the interval {text!r}: {hint}")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(raw))
    if seconds <= 0:
        raise ValueError(f"interval {text!r} is zero: it must be more than 0")
    if seconds > _MAX_INTERVAL:
        raise ValueError(f"interval {text!r} is more than a year (365d)")
    return seconds


def split_targets(targets: Sequence[str]) -> tuple[list[str], list[Path]]:
    """``targets`` as http(s) URLs and existing folders, each once, in order.

    Raises:
        ValueError: A target is neither: another scheme (``ftp://``, ``file://``), or a path
            that is not a folder. Checked before anything starts, so a typo fails at once.
    """
    urls: list[str] = []
    folders: list[Path] = []
    problems: list[str] = []
    for target in targets:
        text = target.strip()
        if _SCHEME.match(text):
            try:
                url = str(check_url(text))
            except QuotedeskError as exc:
                problems.append(str(exc))
                continue
            if url not in urls:
                urls.append(url)
            continue
        folder = Path(text).expanduser().absolute()
        if not folder.is_dir():
            what = "a file: follow watches folders" if folder.is_file() else "no such folder"
            problems.append(f"{target}: {what} (nor an http(s) URL)")
        elif folder not in folders:
            folders.append(folder)
    if problems:
        raise ValueError("; ".join(problems))
    if not urls and not folders:
        raise ValueError("nothing to follow: give feed or page URLs, or folders")
    return urls, folders


def is_watched_file(path: Path, root: Path) -> bool:
    """Whether a change to ``path`` (under the watched ``root``) is worth an ingest: not
    hidden (nor under a hidden folder, ``.git`` among them) and not a temporary file."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    if any(part.startswith(".") for part in parts):
        return False
    name = path.name.lower()
    return not (name.endswith(_TEMP_SUFFIXES) or name.startswith(_TEMP_PREFIXES))


def follow(
    targets: Sequence[str],
    *,
    every: float,
    ingest_url: Callable[[str], object],
    ingest_folder: Callable[[Path], object],
    stop: threading.Event | None = None,
    max_rounds: int | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
    debounce: float = 1.6,
    quiet: float = 0.3,
) -> None:
    """Follow ``targets`` until ``stop`` is set, Ctrl-C, or ``max_rounds``.

    Args:
        targets: http(s) URLs (feeds, pages, sitemaps: what ``ingest_url`` takes) and folders.
        every: Seconds between polls of the URLs (from the start of one round to the next).
        ingest_url: Fetches and ingests one URL (conditionally: a cached
            :class:`~retrieval.web.fetch.Fetcher` makes an unchanged feed one 304).
        ingest_folder: Ingests one folder (all of it: the ingest keeps what did not change).
        stop: Set it to end following; waits end at once, an ingest under way is finished.
        max_rounds: Stop each target after this many rounds: a round of the URLs is one
            poll of each; a folder's rounds are its first ingest and each ingest after
            changes. ``1`` ingests everything once and returns. ``None``: until stopped.
        on_error: Told of each failure (the target, the exception); the target is tried
            again at its next turn. By default failures are logged.
        debounce: A folder's changes are gathered for at most this many seconds.
        quiet: ...and ingested once no change has come for this many seconds (a file still
            being copied keeps changing).

    Raises:
        ValueError: A target is neither an http(s) URL nor a folder; a bad ``every`` or
            ``max_rounds`` (before anything starts).

    Ctrl-C, in the thread that called it, stops the others and returns normally.
    """
    if not (math.isfinite(every) and every > 0):
        raise ValueError(f"every must be a number of seconds more than 0, not {every!r}")
    if max_rounds is not None and max_rounds < 1:
        raise ValueError(f"max_rounds must be at least 1, not {max_rounds!r}")
    urls, folders = split_targets(targets)
    stop = stop if stop is not None else threading.Event()
    report = _reporter(on_error)
    threads = []
    if urls:
        threads.append(
            threading.Thread(
                target=_poll_urls,
                args=(urls, every, ingest_url, stop, max_rounds, report),
                name="quotedesk-follow-urls",
                daemon=True,
            )
        )
    for folder in folders:
        threads.append(
            threading.Thread(
                target=_watch_folder,
                args=(folder, ingest_folder, stop, max_rounds, report, debounce, quiet),
                name=f"quotedesk-follow-{folder.name}",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            # Short joins: the calling thread must wake to take a Ctrl-C.
            while thread.is_alive():
                thread.join(0.25)
    except KeyboardInterrupt:
        log.info("stopping: waiting for any ingest under way to finish")
        stop.set()
        for thread in threads:
            thread.join()


def _poll_urls(
    urls: list[str],
    every: float,
    ingest_url: Callable[[str], object],
    stop: threading.Event,
    max_rounds: int | None,
    report: Callable[[str, Exception], None],
) -> None:
    rounds = 0
    while not stop.is_set():
        started = time.monotonic()
        for url in urls:
            if stop.is_set():
                return
            _attempt(url, functools.partial(ingest_url, url), report)
        rounds += 1
        if max_rounds is not None and rounds >= max_rounds:
            return
        stop.wait(max(0.0, every - (time.monotonic() - started)))


def _watch_folder(
    folder: Path,
    ingest_folder: Callable[[Path], object],
    stop: threading.Event,
    max_rounds: int | None,
    report: Callable[[str, Exception], None],
    debounce: float,
    quiet: float,
) -> None:
    # Imported here: only following a folder needs watchfiles (a compiled extension).
    import watchfiles

    rounds = 0
    # Ingest at the start, and after the watcher failed (changes may have been missed).
    pending = True
    while not stop.is_set():
        try:
            for changes in watchfiles.watch(
                folder,
                watch_filter=lambda _change, path: is_watched_file(Path(path), folder),
                debounce=max(1, int(debounce * 1000)),
                step=max(1, int(quiet * 1000)),
                stop_event=stop,
                rust_timeout=_WATCH_TICK_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                if not (pending or changes):
                    continue
                pending = False
                _attempt(str(folder), functools.partial(ingest_folder, folder), report)
                rounds += 1
                if max_rounds is not None and rounds >= max_rounds:
                    return
            return  # the watcher ends only when stop is set
        except Exception as exc:  # the folder removed, the inotify limit reached, ...
            report(str(folder), exc)
            pending = True
            stop.wait(_RETRY_SECONDS)


def _attempt(
    target: str, work: Callable[[], object], report: Callable[[str, Exception], None]
) -> None:
    try:
        work()
    except Exception as exc:  # one failing target never stops the others
        report(target, exc)


def _reporter(
    on_error: Callable[[str, Exception], None] | None,
) -> Callable[[str, Exception], None]:
    def report(target: str, exc: Exception) -> None:
        if on_error is None:
            _log_error(target, exc)
            return
        try:
            on_error(target, exc)
        except Exception:  # a broken reporter must not end the loop it reports on
            log.exception("on_error failed on %s", target)
            _log_error(target, exc)

    return report


def _log_error(target: str, exc: Exception) -> None:
    if isinstance(exc, QuotedeskError):
        log.warning("%s: %s", target, exc)  # expected failures: one line
    else:
        log.warning("%s: %s", target, exc, exc_info=exc)
