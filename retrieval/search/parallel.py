"""One thread pool per process for work that runs beside a search: FAISS and the BM25 sums
both release the GIL, so on two cores a hybrid question's two searches take the time of the
longer one instead of their sum."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from retrieval.settings import available_cores

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def beside() -> ThreadPoolExecutor:
    """The process's pool (made on first use, and again in a forked child, which has none of
    its parent's threads)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=available_cores(), thread_name_prefix="quotedesk-search"
            )
        return _pool


def _forget() -> None:
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)
