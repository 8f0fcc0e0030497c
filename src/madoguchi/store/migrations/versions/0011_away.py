"""away: mail to a visitor who left the chat (V9)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("mail_when_away", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("visitor_has_seq", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "visitor_sockets",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("socket_id", sa.String(length=32), nullable=False),
        sa.Column("alive_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_visitor_sockets_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", "socket_id", name=op.f("pk_visitor_sockets")),
    )


def downgrade() -> None:
    op.drop_table("visitor_sockets")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("visitor_has_seq")
        batch.drop_column("mail_when_away")
