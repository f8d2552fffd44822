"""baseline: the bot's tables as the corpus's revisions 0001-0005 kept them

``handled_deliveries`` and ``answer_feedback``, exactly as corpus revision 0001 created them
(written out here, not imported from ``bot/store/schema.py``, so that this revision stays what
it was as the models move on).

A database whose tables are already there (made by the corpus's revisions, or by the code just
before migrations) keeps them and their rows: :func:`bot.store.migrate.upgrade_all` adopts
them, checking their columns, creating those missing, carrying over the Slack tables of the
release before migrations (``slack_events``, ``slack_feedback``), and stamping this revision.
Applied by Alembic itself, it creates only the tables that are missing.

Revision ID: b0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


def baseline() -> sa.MetaData:
    """The tables of this revision, for creating them (all, or those a database lacks).

    Example:
        >>> sorted(baseline().tables)
        ['answer_feedback', 'handled_deliveries']
    """
    metadata = sa.MetaData()
    sa.Table(
        "handled_deliveries",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.String(64), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    sa.Table(
        "answer_feedback",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vote", sa.String(8), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("quotes", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    return metadata


def upgrade() -> None:
    baseline().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    baseline().drop_all(op.get_bind())
