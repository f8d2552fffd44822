"""staged ingest: an ingest writes its documents aside and makes them live at once

Before, every group of 512 passages an ingest stored was live at once, and a running bot
could answer from a corpus half old, half new; a crash left it so. Documents now carry the
ingest run that staged them (``ingest_run``, NULL once live), and an ingest makes all of
its documents live in one transaction at its end. One live document per (collection, path)
is kept by a partial unique index; staged versions of a document may exist beside it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_KEY = "uq_documents_collection_path"
NEW_KEY = "uq_documents_live_path"
RUN_INDEX = "ix_documents_ingest_run"
LIVE = "ingest_run IS NULL"
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("ingest_run", sa.String(32), nullable=True))
        batch.drop_constraint(OLD_KEY, type_="unique")
    op.create_index(RUN_INDEX, "documents", ["ingest_run"])
    op.create_index(
        NEW_KEY,
        "documents",
        ["collection", "path"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    # Staged documents are an ingest that never finished: the live ones are the corpus.
    documents = sa.table("documents", sa.column("id"), sa.column("ingest_run"))
    staged = sa.select(documents.c.id).where(documents.c.ingest_run.is_not(None))
    for table in ("passages", "title_vectors"):
        op.execute(
            sa.table(table, sa.column("document_id"))
            .delete()
            .where(sa.column("document_id").in_(staged))
        )
    op.execute(documents.delete().where(documents.c.ingest_run.is_not(None)))
    op.drop_index(NEW_KEY, table_name="documents")
    op.drop_index(RUN_INDEX, table_name="documents")
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.drop_column("ingest_run")
        batch.create_unique_constraint(OLD_KEY, ["collection", "path"])
