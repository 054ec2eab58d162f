"""case priority: priority service and jemput bola (outreach) requests as case attributes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 19:00:00

`case_record.priority` names why the applicant is served first (disabilitas, lansia, hamil:
PermenPAN-RB 15/2014, UU 8/2016), NULL for everyone else; the officers' inbox sorts these cases
first. `outreach_for`, `outreach_address` and `outreach_contact` hold a jemput bola request (an
officer visits the applicant) on a service whose standard offers it; NULL when none was asked.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('outreach_for', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('outreach_address', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('outreach_contact', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('outreach_contact')
        batch_op.drop_column('outreach_address')
        batch_op.drop_column('outreach_for')
        batch_op.drop_column('priority')
