"""The ONNX encoder's build cache (``<data dir>/models/``) kept tidy: which cache folders are in
use, and the removal of those no current recipe uses.

A cache folder ``<model>-<precision>-<digest>/`` sits beside two lock files:
``<folder>.lock``, which a process building that folder holds exclusively
(:func:`retrieval.onnx_encoder.ensure_model`), and ``<folder>.in-use``, which every process
using the folder holds shared for as long as its encoder lives (:func:`hold`). :func:`prune`
removes a folder that no current recipe names only when it gets both locks at once without
waiting: never one in use or being built. A process that waited for its shared lock while a
prune removed the folder finds the lock file unlinked, takes a new one, and rebuilds.

Folders whose ``.in-use`` file was never made were last used by a release older than these
locks, whose processes hold none: :func:`prune` keeps them unless told (``quotedesk model
prune`` removes them). A build's temporary folders (``.<folder>.*.tmp``) and the ones a
replaced folder is moved to for removal (``.<folder>.*.old``) are removed once no build of
that folder holds its lock and nothing in them has changed for :data:`LEFTOVER_AGE` seconds.

Only the standard library: the ONNX encoder imports this module, and so does
``quotedesk model``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, so nothing is ever removed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

BUILD_LOCK = ".lock"
IN_USE = ".in-use"
# A build's temporary folder is left alone this long after its last change (a build takes
# seconds to a minute or two), even when no build seems to hold its lock.
LEFTOVER_AGE = 30 * 60
# How onnx_encoder.model_dir names a cache folder: <model>-<precision>-<16 hex digits>.
CACHE_NAME = re.compile(r"(?P<model>[A-Za-z0-9._-]+)-(?P<precision>[a-z0-9]+)-[0-9a-f]{16}")
# A build's staging folder (.tmp) or a replaced folder on its way out (.old): tempfile.mkdtemp
# with the prefix ".<folder>." adds eight letters, digits or underscores.
LEFTOVER_NAME = re.compile(r"\.(?P<folder>.+)\.[A-Za-z0-9_]+\.(?:tmp|old)")
# Tries at taking the shared lock of a folder a prune is removing meanwhile.
HOLD_ATTEMPTS = 5


def in_use_file(cache: Path) -> Path:
    """The lock file users of the cache folder ``cache`` hold shared."""
    return cache.with_name(cache.name + IN_USE)


def build_lock_file(cache: Path) -> Path:
    """The lock file a build of ``cache`` holds exclusively."""
    return cache.with_name(cache.name + BUILD_LOCK)


def hold(cache: Path) -> IO[bytes] | None:
    """A shared lock on the cache folder ``cache``: no :func:`prune` removes it while the
    returned file stays open (close it, or let it be collected, to release it).

    Taken after the folder is checked, so the caller checks it again once this returns (a
    prune may have removed it in between: it is then built again, under this lock). None
    when the lock cannot be taken (no ``fcntl``; a models folder this user cannot write and
    no ``.in-use`` file in it): the folder is used unprotected then.
    """
    if fcntl is None:  # pragma: no cover - not POSIX
        return None
    path = in_use_file(cache)
    for _ in range(HOLD_ATTEMPTS):
        try:
            handle = _open_lock(path)
        except OSError as exc:
            log.debug("cannot mark %s as in use: %s", cache, exc)
            return None
        try:
            # Waits only while a prune removes this folder: it holds the lock that briefly.
            fcntl.flock(handle, fcntl.LOCK_SH)
            if _still_linked(handle, path):
                return handle
        except OSError as exc:
            log.debug("cannot mark %s as in use: %s", cache, exc)
            handle.close()
            return None
        handle.close()  # a prune unlinked it while this process waited: take the new one
    return None


def prune(
    models: Path,
    current: Collection[str],
    *,
    other_models: bool = False,
    unmarked: bool = False,
    leftover_age: float = LEFTOVER_AGE,
) -> list[Path]:
    """Remove the cache folders under ``models`` that no current recipe names, and what
    unfinished builds left; never a folder in use (:func:`hold`) or being built.

    Args:
        models: The build cache (:attr:`retrieval.settings.Settings.models_dir`).
        current: The names of the folders this release builds for the configured model
            (one per ONNX backend): kept, used or not.
        other_models: Also remove the folders of other models (another ``<model>`` in their
            name), which other data dirs sharing ``models`` may use; by default only the
            folders of the models ``current`` names are considered.
        unmarked: Also remove folders no process of this release ever used (no ``.in-use``
            file): a process of an older release, which takes no lock, may be using them.
        leftover_age: Seconds a build's temporary folder is left alone after its last change.

    Returns:
        The folders removed, by name: cache folders, then what unfinished builds left.
    """
    if fcntl is None:  # pragma: no cover - not POSIX
        return []
    try:
        entries = list(models.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot look for stale ONNX encoder caches in %s: %s", models, exc)
        return []
    keep = set(current)
    kept_models = {_model_of(name) for name in keep}
    caches: set[str] = set()
    leftovers: list[Path] = []
    for entry in entries:
        name = entry.name
        if LEFTOVER_NAME.fullmatch(name):
            leftovers.append(entry)
            continue
        for suffix in (BUILD_LOCK, IN_USE):
            name = name.removesuffix(suffix)
        if CACHE_NAME.fullmatch(name):
            caches.add(name)
    removed = []
    for name in sorted(caches - keep):
        if not other_models and _model_of(name) not in kept_models:
            continue
        try:
            if _remove_cache(models / name, unmarked=unmarked):
                removed.append(models / name)
        except OSError as exc:
            log.warning("cannot remove the stale ONNX encoder cache %s: %s", models / name, exc)
    for entry in sorted(leftovers):
        try:
            if _remove_leftover(entry, leftover_age):
                removed.append(entry)
        except OSError as exc:
            log.warning("cannot remove %s, left by an unfinished build: %s", entry, exc)
    return removed


def _remove_cache(cache: Path, *, unmarked: bool) -> bool:
    """Remove the stale cache folder ``cache`` and its lock files when nothing holds them;
    True when a folder was removed (not only lock files)."""
    if cache.is_symlink() or (cache.exists() and not cache.is_dir()):
        return False  # not a folder a build made
    if cache.is_dir() and not in_use_file(cache).exists() and not unmarked:
        log.info(
            "kept the stale ONNX encoder cache %s: a process of an older release may use it "
            "(quotedesk model prune removes it)",
            cache,
        )
        return False
    with _exclusive(build_lock_file(cache)) as building:
        if building is None:
            log.info("kept the stale ONNX encoder cache %s: it is being built", cache)
            return False
        with _exclusive(in_use_file(cache)) as using:
            if using is None:
                log.info("kept the stale ONNX encoder cache %s: a process uses it", cache)
                return False
            found = cache.is_dir()
            if found:
                _remove_dir(cache)
                log.info("removed the ONNX encoder cache %s: no current recipe uses it", cache)
            # Unlinked while held: a user waiting on one finds it gone and takes a new one.
            for path in (in_use_file(cache), build_lock_file(cache)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            return found


def _remove_leftover(folder: Path, age: float) -> bool:
    """Remove ``folder``, a build's temporary folder (or a replaced one on its way out), when
    it has not changed for ``age`` seconds and no build of its cache folder runs."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    if time.time() - _last_change(folder) < age:
        return False
    match = LEFTOVER_NAME.fullmatch(folder.name)
    lock = build_lock_file(folder.with_name(match["folder"] if match else folder.name))
    with contextlib.ExitStack() as stack:
        if lock.exists() and stack.enter_context(_exclusive(lock)) is None:
            return False  # a build of that folder runs now (an old staging folder of it)
        shutil.rmtree(folder)
    log.info("removed %s, left by an ONNX encoder build that did not finish", folder)
    return True


def _remove_dir(folder: Path) -> None:
    """Move ``folder`` aside under a temporary name, then delete it: the cache's name is free
    at once, and what a failed deletion leaves is a leftover the next prune removes."""
    trash = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
    os.replace(folder, trash / "old")
    shutil.rmtree(trash, ignore_errors=True)
    if trash.exists():
        log.warning("could not delete all of %s (removed by a later prune)", trash)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[IO[bytes] | None]:
    """An exclusive lock on ``path`` (made if missing) if no one holds it, else None."""
    assert fcntl is not None
    handle = _open_lock(path)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        # Another prune may have unlinked this file (and removed its folder) meanwhile.
        yield handle if _still_linked(handle, path) else None
    finally:
        handle.close()


def _open_lock(path: Path) -> IO[bytes]:
    # Read-only is enough for flock, and lets users who cannot write a shared file lock it.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    return os.fdopen(fd, "rb", buffering=0)


def _still_linked(handle: IO[bytes], path: Path) -> bool:
    """True when ``path`` is still the file ``handle`` has open."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _last_change(folder: Path) -> float:
    """The newest modification time of ``folder`` and of what is directly in it."""
    times = [folder.lstat().st_mtime]
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                times.append(entry.stat(follow_symlinks=False).st_mtime)
    return max(times)


def _model_of(name: str) -> str:
    """The ``<model>`` part of a cache folder's name."""
    match = CACHE_NAME.fullmatch(name)
    return match["model"] if match else name
