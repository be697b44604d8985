"""the audit head keeps only the number of entries; the chain's last MAC is the last entry's

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 18:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head') as batch:
        batch.drop_column('mac')


def downgrade() -> None:
    with op.batch_alter_table('audit_head') as batch:
        batch.add_column(sa.Column('mac', sa.LargeBinary(length=32), nullable=True))
    # The head's MAC was always the last entry's (32 zero bytes before the first).
    op.get_bind().execute(
        sa.text("UPDATE audit_head SET mac = coalesce((SELECT audit_events.mac FROM "
                "audit_events ORDER BY audit_events.seq DESC LIMIT 1), :genesis)"),
        {"genesis": bytes(32)})
    with op.batch_alter_table('audit_head') as batch:
        batch.alter_column('mac', existing_type=sa.LargeBinary(length=32), nullable=False)
