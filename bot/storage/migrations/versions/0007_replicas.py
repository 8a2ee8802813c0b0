"""What replicas on one PostgreSQL database will need: the update_ids already handled, and
outbox claims with a lease (who sends a message, and until when the claim holds).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the table of handled updates and the outbox's claim columns."""
    op.create_table(
        "handled_updates",
        sa.Column(
            "update_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("handled_at", sa.Text, nullable=False),
    )
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("claimed_by", sa.Text))
        outbox.add_column(sa.Column("lease_until", sa.Text))
