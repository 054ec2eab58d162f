"""queue: the hall's booths, counters (loket), visit bookings and numbered tickets

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 00:00:00

`queue_booth` keeps an agency's ticket prefix and its visit slots (minutes per slot, places per slot
at the counters and at the drive-thru lane); `queue_counter` the numbered counters of a booth and
the services each serves; `queue_booking` a visit slot an applicant booked (a unique place per slot
keeps a full slot full under concurrent bookings); `queue_ticket` the numbered tickets of a day,
unique per (day, prefix, seq), with their calls and outcome (docs/queue.md).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_booth',
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('drive_thru_capacity', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency', name=op.f('pk_queue_booth'))
    )
    op.create_table('queue_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('services', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('current_ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_counter')),
    sa.UniqueConstraint('code', name=op.f('uq_queue_counter_code'))
    )
    with op.batch_alter_table('queue_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_counter_agency'), ['agency'], unique=False)
    op.create_table('queue_booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('service_key', sa.String(length=120), nullable=False),
    sa.Column('starts_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('place', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_queue_booking_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_booking')),
    sa.UniqueConstraint('agency', 'starts_at', 'channel', 'place', name=op.f('uq_queue_booking_agency')),
    sa.UniqueConstraint('code', name=op.f('uq_queue_booking_code'))
    )
    with op.batch_alter_table('queue_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_booking_user_id'), ['user_id'], unique=False)
    op.create_table('queue_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('prefix', sa.String(length=4), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('service_key', sa.String(length=120), nullable=True),
    sa.Column('priority', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('taken_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('slot_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('called_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('served_by', sa.Integer(), nullable=True),
    sa.Column('finished_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('transferred_from', sa.String(length=64), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['queue_booking.id'], name=op.f('fk_queue_ticket_booking_id_queue_booking'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_queue_ticket_case_id_case_record'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['counter_id'], ['queue_counter.id'], name=op.f('fk_queue_ticket_counter_id_queue_counter'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['served_by'], ['user_account.id'], name=op.f('fk_queue_ticket_served_by_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_ticket')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_queue_ticket_booking_id')),
    sa.UniqueConstraint('day', 'prefix', 'seq', name=op.f('uq_queue_ticket_day')),
    sa.UniqueConstraint('token', name=op.f('uq_queue_ticket_token'))
    )
    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_queue_ticket_day_agency', ['day', 'agency'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_ticket_day_agency')
    op.drop_table('queue_ticket')
    with op.batch_alter_table('queue_booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_booking_user_id'))
    op.drop_table('queue_booking')
    with op.batch_alter_table('queue_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_counter_agency'))
    op.drop_table('queue_counter')
    op.drop_table('queue_booth')
