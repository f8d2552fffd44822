"""threads and channels: the questions answered, channels' collections, feedback as asked

``answered_questions`` keeps each question the bot answered and where its answer went, so a
follow-up in that thread is read with the thread's earlier questions and the Home tab lists a
person's recent ones. ``channel_collections`` maps a channel to the collections it answers from
(and marks help channels). ``answer_feedback`` gains the day a vote's question was asked on,
the earlier questions it was read with and its channel's collections, so that feedback can be
asked again as an evaluation case; rows from before have none of them (NULL).

Revision ID: b0002
Revises: b0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("answer_ts", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_answered_questions_thread", "answered_questions", ["channel_id", "thread_ts"]
    )
    op.create_index(
        "ix_answered_questions_answer", "answered_questions", ["channel_id", "answer_ts"]
    )
    op.create_index("ix_answered_questions_user", "answered_questions", ["user_id", "id"])
    op.create_index(op.f("ix_answered_questions_asked_at"), "answered_questions", ["asked_at"])
    op.create_table(
        "channel_collections",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("collections", sa.Text(), nullable=False),
        sa.Column("answer_questions", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    with op.batch_alter_table("answer_feedback") as batch:
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("context", sa.Text(), nullable=True))
        batch.add_column(sa.Column("collections", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer_feedback") as batch:
        batch.drop_column("collections")
        batch.drop_column("context")
        batch.drop_column("as_of")
    op.drop_table("channel_collections")
    op.drop_index(op.f("ix_answered_questions_asked_at"), table_name="answered_questions")
    op.drop_index("ix_answered_questions_user", table_name="answered_questions")
    op.drop_index("ix_answered_questions_answer", table_name="answered_questions")
    op.drop_index("ix_answered_questions_thread", table_name="answered_questions")
    op.drop_table("answered_questions")
