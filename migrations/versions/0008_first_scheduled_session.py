"""each case's earliest scheduled session date, kept on the case for the dashboard's sort

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('first_scheduled_on', sa.Date(), nullable=True))
    op.execute(
        "UPDATE cases SET first_scheduled_on = (SELECT min(case_sessions.held_on) "
        "FROM case_sessions WHERE case_sessions.case_id = cases.id "
        "AND case_sessions.attendance = 'scheduled')"
    )


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('first_scheduled_on')
