"""documents text and url: the extracted text a document's quotes stand in, its link; fetches

Documents read from web pages, PDFs, Word files, exports and feeds are quoted from the text
their reader extracted, not from the file: ``documents.text`` keeps it (``quotedesk show``
prints it) and ``documents.url`` the document's canonical link. Both are empty for documents
stored before; the next ingest of a changed file fills them. ``fetched_urls`` remembers what
``quotedesk ingest URL`` and ``quotedesk follow`` last fetched (ETag, Last-Modified, digest).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("text", sa.Text(), nullable=True))
    op.create_table(
        "fetched_urls",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("etag", sa.String(length=1024), nullable=True),
        sa.Column("last_modified", sa.String(length=128), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    )


def downgrade() -> None:
    op.drop_table("fetched_urls")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("text")
        batch.drop_column("url")
