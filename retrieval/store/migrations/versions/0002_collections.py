"""collections: a document is named by (collection, path), not by its path alone

Before, ``documents.path`` (relative to the folder ingested) was unique: ingesting ``a/`` and
then ``b/``, both holding ``report.txt``, overwrote the first. Each document now belongs to a
collection, and ``(collection, path)`` is unique.

Existing documents get their collection from the folder they were ingested from
(``documents.root``): its name (``seeds`` for ``/srv/app/seeds``), as an ingest without
``--collection`` names a new folder's, or the whole folder path where two folders share a name,
so that no two roots fall into one collection. An ingest without ``--collection`` finds a
folder's collection by its root, so the next ingest of those folders re-encodes nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import PurePath

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_KEY = "uq_documents_collection_path"
# Names what SQLite reflects unnamed, so a batch (the table copied) can drop it.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
documents = sa.table(
    "documents", sa.column("id"), sa.column("root"), sa.column("collection"), sa.column("path")
)


def collection_names(roots: Iterable[str]) -> dict[str, str]:
    """The collection of each root: its folder's name, or the whole path when names clash.

    Example:
        >>> collection_names(["/srv/seeds", "/a/docs", "/b/docs"])["/srv/seeds"]
        'seeds'
        >>> collection_names(["/srv/seeds", "/a/docs", "/b/docs"])["/a/docs"]
        '/a/docs'
    """
    named = {root: PurePath(root).name or root for root in roots}
    counts = Counter(named.values())
    return {root: name if counts[name] == 1 else root for root, name in named.items()}


def _unique_key(bind: sa.Connection, columns: list[str]) -> str | None:
    """The name of the unique constraint of ``documents`` on ``columns`` (None: unnamed)."""
    for key in sa.inspect(bind).get_unique_constraints("documents"):
        if key["column_names"] == columns:
            return key["name"]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("documents", sa.Column("collection", sa.String(1024), nullable=True))
    roots = [row[0] for row in bind.execute(sa.select(documents.c.root).distinct())]
    for root, name in collection_names(roots).items():
        bind.execute(documents.update().where(documents.c.root == root).values(collection=name))
    old_key = _unique_key(bind, ["path"]) or NAMING["uq"] % {
        "table_name": "documents",
        "column_0_name": "path",
    }
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.alter_column("collection", existing_type=sa.String(1024), nullable=False)
        batch.drop_constraint(old_key, type_="unique")
        batch.create_unique_constraint(NEW_KEY, ["collection", "path"])


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(
        sa.select(documents.c.path).group_by(documents.c.path).having(sa.func.count() > 1)
    ).all()
    if shared:
        # Back to one document per path would have to throw documents away: refuse.
        raise RuntimeError(
            f"cannot downgrade below 0002: {len(shared)} paths are held by more than one "
            f"collection, e.g. {shared[0][0]!r}"
        )
    with op.batch_alter_table("documents", naming_convention=NAMING) as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.create_unique_constraint("documents_path_key", ["path"])
        batch.drop_column("collection")
