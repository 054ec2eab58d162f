"""document numbers: the register of numbers the platform gives issued documents

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 19:00:00

A service whose `[document]` table has a `number_format` gets its document numbers from the
platform: one `document_number` row per case, drawn when the case reaches the issuing end event.
The unique (process_key, year, seq) is what keeps two signings from sharing a number.
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_number',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=120), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_document_number_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_number')),
    sa.UniqueConstraint('case_id', name=op.f('uq_document_number_case_id')),
    sa.UniqueConstraint('process_key', 'year', 'seq', name=op.f('uq_document_number_process_key'))
    )


def downgrade() -> None:
    op.drop_table('document_number')
