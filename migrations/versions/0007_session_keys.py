"""keys a signed-in session has already unwrapped, sealed under its cookie key (DESIGN 3.6)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 14:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'session_keys',
        sa.Column('session_id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('purpose', sa.String(length=12), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('key_sealed', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['web_sessions.id'],
                                name=op.f('fk_session_keys_session_id_web_sessions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_id', 'purpose', 'user_id'],
                                ['case_keys.case_id', 'case_keys.purpose',
                                 'case_keys.recipient_id'],
                                name=op.f('fk_session_keys_case_id_case_keys'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'case_id', 'purpose',
                                name=op.f('pk_session_keys')),
    )
    op.create_index('ix_session_keys_case_key', 'session_keys',
                    ['case_id', 'purpose', 'user_id'], unique=False)
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_key_sealed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('drafts_key_sealed', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_column('drafts_key_sealed')
        batch_op.drop_column('directory_key_sealed')
    op.drop_index('ix_session_keys_case_key', table_name='session_keys')
    op.drop_table('session_keys')
