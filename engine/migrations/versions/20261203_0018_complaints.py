"""complaints: a complaint case linked to the case or service it is about, with its response deadline

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 19:00:00

`complaint` ties a case of the complaint service (pengaduan) to what it complains about: the service
(always) and the case (when filed from a tracking page), the agency it was filed to, whether the
complainant asked to stay confidential (then their name is kept here, out of the case data the agency's
officers read), and the response deadline (the service's
`[standard] complaints.response_days`, else the complaint service's sla_days). The answer itself
stays in the complaint case's data (docs/complaints.md).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('about_case_id', sa.Integer(), nullable=True),
    sa.Column('service_key', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('complainant_name', sa.String(length=200), nullable=True),
    sa.Column('response_days', sa.Integer(), nullable=False),
    sa.Column('due_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_complaint_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['about_case_id'], ['case_record.id'],
                            name=op.f('fk_complaint_about_case_id_case_record'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('case_id', name=op.f('uq_complaint_case_id'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_about_case_id'), ['about_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_service_key'), ['service_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_service_key'))
        batch_op.drop_index(batch_op.f('ix_complaint_about_case_id'))
    op.drop_table('complaint')
