"""retention and rights: legal holds, anonymised cases, privacy notices and their acceptance

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 00:00:00

`case_record.anonymised_at` marks a case whose personal data the retention job removed
(engine/privacy/retention.py); `legal_hold` stops the job for a case while a hold is not lifted.
`privacy_notice` keeps each wording of a service's privacy notice once, by the hash of its text, and
`notice_acceptance` records which one the applicant accepted when the case was filed (docs/privacy.md).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', engine.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table('legal_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.String(length=120), nullable=False),
    sa.Column('placed_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('lifted_by', sa.String(length=120), nullable=True),
    sa.Column('lifted_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_legal_hold_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_hold'))
    )
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_hold_case_id'), ['case_id'], unique=False)
    op.create_table('privacy_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('text_id', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_notice')),
    sa.UniqueConstraint('text_hash', name=op.f('uq_privacy_notice_text_hash'))
    )
    op.create_table('notice_acceptance',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('accepted_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_notice_acceptance_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['privacy_notice.id'],
                            name=op.f('fk_notice_acceptance_notice_id_privacy_notice')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_notice_acceptance'))
    )
    with op.batch_alter_table('notice_acceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_acceptance_notice_id'), ['notice_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_acceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_acceptance_notice_id'))
    op.drop_table('notice_acceptance')
    op.drop_table('privacy_notice')
    with op.batch_alter_table('legal_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_hold_case_id'))
    op.drop_table('legal_hold')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
