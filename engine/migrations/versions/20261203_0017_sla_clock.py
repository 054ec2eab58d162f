"""sla clock: a working calendar administrators maintain, and pauses of a case's SLA clock

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 19:00:00

`working_calendar` (one row: weekly service hours and a revision), `calendar_holiday` (holidays
and cuti bersama), `calendar_hours_range` (Ramadan hours) are seeded from the bundled
engine/data/holidays_id.toml and the default hours (engine/sla/hours.py); `sla_pause` records
each stretch a case's SLA clock stood still; `case_record.sla_paused_since` / `sla_paused_s` say
whether it stands still now and for how long it has in total (docs/operations.md).
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import engine.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_paused_since', engine.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_paused_s', sa.Integer(), server_default='0', nullable=False))
    calendar = op.create_table('working_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('week', sa.JSON(), nullable=False),
    sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_calendar'))
    )
    holidays = op.create_table('calendar_holiday',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_holiday'))
    )
    ranges = op.create_table('calendar_hours_range',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=False),
    sa.Column('week', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_hours_range'))
    )
    op.create_table('sla_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=True),
    sa.Column('started_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('paused_s', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_sla_pause_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_pause'))
    )
    with op.batch_alter_table('sla_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_pause_case_id'), ['case_id'], unique=False)
    _seed(calendar, holidays, ranges)


def _seed(calendar: sa.Table, holidays: sa.Table, ranges: sa.Table) -> None:
    """Fill the calendar from the bundled holiday file and the default hours: a fresh database's calendar."""
    from engine.sla.calendar import load_holiday_data, parse_holidays, parse_ramadan, provisional_years
    from engine.sla.hours import DEFAULT_WEEK, week_to_json

    raw = load_holiday_data()
    estimated = provisional_years(raw)
    op.bulk_insert(calendar, [{"id": 1, "revision": 1, "week": week_to_json(DEFAULT_WEEK),
                               "updated_at": datetime.now(UTC), "updated_by": None}])
    op.bulk_insert(holidays, [{"day": day, "name": name, "kind": kind, "provisional": day.year in estimated,
                               "source": "bundled"} for day, (name, kind) in sorted(parse_holidays(raw).items())])
    op.bulk_insert(ranges, [{"name": r.name, "starts": r.starts, "ends": r.ends, "week": week_to_json(r.week)}
                            for r in parse_ramadan(raw)])


def downgrade() -> None:
    with op.batch_alter_table('sla_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_pause_case_id'))
    op.drop_table('sla_pause')
    op.drop_table('calendar_hours_range')
    op.drop_table('calendar_holiday')
    op.drop_table('working_calendar')
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('sla_paused_s')
        batch_op.drop_column('sla_paused_since')
