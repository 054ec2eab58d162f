"""personal data access: every full view of a case's personal data, for the data-protection officer

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 00:00:00

`personal_data_access` holds one row per request that showed a case's classified fields (or a
classified file) in full: who (user id and username), when, which case, how (for a task, revealed
with a reason, a file, the API), the role and agency acted in, and the client's address and user
agent. The data-protection officer reviews it (/admin/akses-data); the applicant sees the agencies
on the tracking page (docs/privacy.md).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('personal_data_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('how', sa.String(length=16), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('role', sa.String(length=130), nullable=True),
    sa.Column('agency', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_personal_data_access_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_personal_data_access_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_access'))
    )
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_access_at', ['at'], unique=False)
        batch_op.create_index('ix_personal_data_access_user_at', ['user_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_access_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_personal_data_access_agency'), ['agency'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('personal_data_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_data_access_agency'))
        batch_op.drop_index(batch_op.f('ix_personal_data_access_case_id'))
        batch_op.drop_index('ix_personal_data_access_user_at')
        batch_op.drop_index('ix_personal_data_access_at')
    op.drop_table('personal_data_access')
