"""baseline: the schema as quotedesk made it before migrations

The corpus (documents, passages, title_vectors, meta) and what the bot remembers
(handled_deliveries, answer_feedback), exactly as ``Base.metadata.create_all`` made them when
the store still created its tables itself. Written out here, not imported from
``retrieval/store/schema.py``, so that this revision stays what it was as the models move on.

A store made before migrations is adopted at this revision by
:func:`retrieval.store.migrate.upgrade`: the corpus tables it lacks are created from
:func:`baseline`, and the database is stamped ``0001``. (Since revision 0006 the bot's two
tables, and the Slack tables of the release before that they replace, are adopted by the bot's
own history: ``bot/store/migrate.py``.)

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def baseline() -> sa.MetaData:
    """The tables of this revision, for creating them (all, or those a store lacks).

    Example:
        >>> sorted(baseline().tables)[:2]
        ['answer_feedback', 'documents']
    """
    metadata = sa.MetaData()
    sa.Table(
        "documents",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(1024), nullable=False, unique=True),
        sa.Column("root", sa.String(2048), nullable=False, index=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("date", sa.Date, nullable=True, index=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "title_vectors",
        metadata,
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "passages",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "meta",
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
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
    baseline().create_all(op.get_bind())


def downgrade() -> None:
    baseline().drop_all(op.get_bind())
