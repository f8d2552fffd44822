"""Forgetting what the bot no longer needs: handled deliveries and feedback older than the
retention (``QUOTEDESK_RETENTION_DAYS``, 30 days by default: :class:`SlackConfig`) are deleted
when the bot starts and once a day after that, through :meth:`BotStore.prune_history`.

Handled deliveries are only needed while Slack may still retry (minutes); feedback holds user
and channel ids and the questions people asked, personal data that is not kept for nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.store import BotStore

# Often enough that nothing outlives the retention by more than a day; rarely enough to cost
# nothing.
PRUNE_EVERY = timedelta(days=1)

log = logging.getLogger(__name__)


class HistoryPruner:
    """Prunes ``store``'s history now and every ``interval``, in a daemon thread.

    Args:
        store: The bot's store, where deliveries and feedback are kept.
        days: Rows older than this many days are deleted.
        interval: Time between two prunes.
        now: The clock (tests move it forward).

    Attributes:
        runs: Prunes done so far (also when one failed).
        removed: Rows removed so far.

    The bot runs one as ``HistoryPruner(records, days=config.retention_days).start()`` and
    calls :meth:`stop` when it stops. One prune, by hand, on a clock moved a month on:

    Example:
        >>> from retrieval.store import Store
        >>> records = BotStore(Store("sqlite:///:memory:"))
        >>> records.claim_delivery("Ev1")
        True
        >>> a_month_on = lambda: datetime.now(UTC) + timedelta(days=31)
        >>> HistoryPruner(records, days=30, now=a_month_on).prune()
        1
    """

    def __init__(
        self,
        store: BotStore,
        *,
        days: int,
        interval: timedelta = PRUNE_EVERY,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        if days < 1:
            raise ValueError(f"the retention must be at least one day, not {days}")
        self.store = store
        self.retention = timedelta(days=days)
        self.interval = interval
        self.now = now
        self.runs = 0
        self.removed = 0
        self._stopped = threading.Event()
        self._ran = threading.Condition()
        self._thread: threading.Thread | None = None

    def prune(self) -> int:
        """Delete the rows older than the retention now; returns how many. A failure (the
        database away) is logged and the next run tries again: it never stops the bot."""
        before = self.now() - self.retention
        try:
            removed = self.store.prune_history(before=before)
        except Exception:
            log.exception("could not prune deliveries and feedback older than %s", before)
            removed = 0
        else:
            if removed:
                log.info("forgot %d deliveries and feedback older than %s", removed, before)
        with self._ran:
            self.runs += 1
            self.removed += removed
            self._ran.notify_all()
        return removed

    def start(self) -> HistoryPruner:
        """Prune now, then every ``interval``, in a daemon thread; returns ``self``."""
        self._thread = threading.Thread(target=self._run, name="quotedesk-retention", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_runs(self, runs: int, *, timeout: float) -> bool:
        """Wait until ``runs`` prunes were done; False when ``timeout`` seconds passed first."""
        with self._ran:
            return self._ran.wait_for(lambda: self.runs >= runs, timeout=timeout)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self.prune()
            self._stopped.wait(self.interval.total_seconds())
