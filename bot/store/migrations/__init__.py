"""The bot's Alembic migration environment: ``env.py``, ``script.py.mako`` and the revisions in
``versions/``, recorded in ``alembic_version_bot``. Run through :mod:`bot.store.migrate`,
configured in code (no alembic.ini).
"""
