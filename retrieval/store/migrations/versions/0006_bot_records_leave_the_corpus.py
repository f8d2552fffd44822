"""bot records leave the corpus: its delivery and feedback tables are the bot's history's now

Revisions 0001-0005 created and kept the bot's tables (``handled_deliveries`` and
``answer_feedback``) beside the corpus. From this revision on they belong to the bot's own
history (``bot/store/migrations/``, version table ``alembic_version_bot``), whose baseline
adopts them as they are, rows included; the corpus's models no longer define them and no later
corpus revision touches them.

Nothing changes in the database: this revision only marks the hand-over, so that a database
at 0006 is one whose bot tables the bot's history has (or will have, at ``quotedesk db
upgrade``) adopted. Downgrading it changes nothing either.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
