"""The ``quotedesk`` command line (entry point ``bot.cli:main``).

``main`` builds the group from one module per command group (``ask``, ``corpus``, ``db``,
``evaluate``, ``model``, ``slack``); each of those imports only :mod:`bot.cli.common`.
"""

from __future__ import annotations

from bot.cli.main import cli, main

__all__ = ["cli", "main"]
