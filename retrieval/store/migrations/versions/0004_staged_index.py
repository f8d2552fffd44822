"""staged index: the index on ingest_run holds staged documents only

The full index on ``documents.ingest_run`` led SQLite's planner astray: for "these passages,
of live documents" it walked every live document through that index and then their passages,
a full scan (seconds at a million passages) instead of a lookup by passage id. The index is
only there to find an ingest's staged documents, so it now holds just those (a partial index,
``ingest_run IS NOT NULL``): small, and of no use for ``ingest_run IS NULL``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_INDEX = "ix_documents_ingest_run"
NEW_INDEX = "ix_documents_staged"
STAGED = "ingest_run IS NOT NULL"


def upgrade() -> None:
    op.drop_index(OLD_INDEX, table_name="documents")
    op.create_index(
        NEW_INDEX,
        "documents",
        ["ingest_run"],
        sqlite_where=sa.text(STAGED),
        postgresql_where=sa.text(STAGED),
    )


def downgrade() -> None:
    op.drop_index(NEW_INDEX, table_name="documents")
    op.create_index(OLD_INDEX, "documents", ["ingest_run"])
