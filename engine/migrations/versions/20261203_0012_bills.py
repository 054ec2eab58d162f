"""bills: bills of cases paid through a bank's virtual account, and their payment events

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:00:00

`bill` holds what a case asks the applicant to pay (amount in whole rupiah, due date, VA number,
status); `payment_event` is the append-only log of creations, bank notifications (accepted,
duplicate, refused) and expiries (docs/payments.md).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('due_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('va_number', sa.String(length=40), nullable=True),
    sa.Column('qris_payload', sa.Text(), nullable=True),
    sa.Column('paid_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('paid_amount', sa.BigInteger(), nullable=True),
    sa.Column('bank_reference', sa.String(length=128), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_bill_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill')),
    sa.UniqueConstraint('bank_reference', name=op.f('uq_bill_bank_reference')),
    sa.UniqueConstraint('number', name=op.f('uq_bill_number')),
    sa.UniqueConstraint('va_number', name=op.f('uq_bill_va_number'))
    )
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.create_index('ix_bill_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_case_id'), ['case_id'], unique=False)
    op.create_table('payment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bill.id'], name=op.f('fk_payment_event_bill_id_bill'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_event'))
    )
    with op.batch_alter_table('payment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_event_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_event_external_id'), ['external_id'], unique=False)


def downgrade() -> None:
    op.drop_table('payment_event')
    with op.batch_alter_table('bill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_case_id'))
        batch_op.drop_index('ix_bill_status_due')
    op.drop_table('bill')
