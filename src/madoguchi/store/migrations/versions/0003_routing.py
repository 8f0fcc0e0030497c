"""routing: queue place, offers, operators passed over, consoles last seen

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("offered_to", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("passed_by", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            "fk_conversations_offered_to_operators", "operators", ["offered_to"], ["id"]
        )
        batch.create_index("ix_conversations_offered_to", ["offered_to"])
    op.execute("UPDATE conversations SET queued_at = created_at")
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("seen_at")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_offered_to")
        batch.drop_constraint("fk_conversations_offered_to_operators", type_="foreignkey")
        batch.drop_column("passed_by")
        batch.drop_column("offer_expires_at")
        batch.drop_column("offered_to")
        batch.drop_column("queued_at")
