"""The bot's store: the one place in ``bot/`` that speaks SQL (as ``retrieval/store/`` is in the
core). It keeps the bot's records (handled deliveries, questions answered, channel settings,
feedback) in the corpus's database, on the corpus store's engine, with tables and an Alembic
history of their own (``alembic_version_bot``).

* :class:`BotStore`: the records, opened on a :class:`~retrieval.store.Store`.
* :mod:`bot.store.schema`: the tables; :mod:`bot.store.migrate`: their history, and
  ``quotedesk db status`` / ``upgrade`` over both histories (:func:`status_all`,
  :func:`upgrade_all`).

Everything outside it works with the plain records of :mod:`bot.store.records`.
"""

from __future__ import annotations

from bot.store.migrate import HISTORIES, status_all, upgrade_all
from bot.store.records import AskedQuestion, ChannelSetting, Feedback
from bot.store.store import BotStore

__all__ = [
    "HISTORIES",
    "AskedQuestion",
    "BotStore",
    "ChannelSetting",
    "Feedback",
    "status_all",
    "upgrade_all",
]
