"""claim deadlines: a delivery records when it was done; an unfinished claim may be taken over

``handled_deliveries`` gains ``done_at``: when the handling of a delivery (a Slack event, a
message) finished, answered or acknowledged with nothing to answer. A claim without it, older
than the bot's claim deadline, was left by a process that died before answering: Slack's retry
may take it over. ``received_at`` is now when a delivery was last claimed (first received, or
taken over).

The rows already there were claimed by a release that did not record the end of a delivery:
they are marked done when they were received, so that none is ever answered a second time.

Revision ID: b0003
Revises: b0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0003"
down_revision = "b0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handled_deliveries") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    deliveries = sa.table(
        "handled_deliveries",
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("done_at", sa.DateTime(timezone=True)),
    )
    op.execute(deliveries.update().values(done_at=deliveries.c.received_at))


def downgrade() -> None:
    with op.batch_alter_table("handled_deliveries") as batch:
        batch.drop_column("done_at")
