"""quotedesk's Alembic migration environment: ``env.py``, ``script.py.mako`` and the revisions in
``versions/``. Run through :mod:`retrieval.store.migrate`, configured in code (no alembic.ini).
"""
