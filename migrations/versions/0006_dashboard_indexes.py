"""indexes for the dashboard's per-case next session, open questions and unread reflections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:40:00
"""

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_sessions_case_attendance_held_on', 'case_sessions',
                    ['case_id', 'attendance', 'held_on'], unique=False)
    op.create_index('ix_open_questions_case_state', 'open_questions',
                    ['case_id', 'state'], unique=False)
    op.create_index('ix_reflection_versions_case_scope_read', 'reflection_versions',
                    ['case_id', 'scope', 'read_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reflection_versions_case_scope_read', table_name='reflection_versions')
    op.drop_index('ix_open_questions_case_state', table_name='open_questions')
    op.drop_index('ix_case_sessions_case_attendance_held_on', table_name='case_sessions')
