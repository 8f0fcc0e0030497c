"""lifecycle: limits' clocks, follow-ups, survey, erasure, the maintenance switch

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NEW_COLUMNS = (
    ("last_activity_at", sa.DateTime(timezone=True)),
    ("last_visitor_at", sa.DateTime(timezone=True)),
    ("last_operator_at", sa.DateTime(timezone=True)),
    ("warned", sa.JSON()),
    ("follow_up_at", sa.DateTime(timezone=True)),
    ("rating", sa.Integer()),
    ("rating_comment", sa.Text()),
    ("rated_at", sa.DateTime(timezone=True)),
    ("erased_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        for name, type_ in _NEW_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_index(batch.f("ix_conversations_ended_at"), ["ended_at"], unique=False)
    op.create_table(
        "switches",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_switches")),
    )


def downgrade() -> None:
    op.drop_table("switches")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index(batch.f("ix_conversations_ended_at"))
        for name, _ in reversed(_NEW_COLUMNS):
            batch.drop_column(name)
