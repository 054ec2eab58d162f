"""connector calls: one row per attempt of an outbound call, for case pages, /metrics and the dashboard

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00

`connector_call` holds each attempt of a partner call or built-in adapter call: operation, system,
attempt number, outcome (ok, retry, refused, failed), HTTP status, duration and a short reason;
never a body or a secret (docs/connectors.md, "Seeing the calls").
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connector_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('operation', sa.String(length=120), nullable=False),
    sa.Column('system', sa.String(length=64), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_connector_call_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connector_call'))
    )
    with op.batch_alter_table('connector_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connector_call_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_connector_call_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('connector_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connector_call_case_id'))
        batch_op.drop_index(batch_op.f('ix_connector_call_at'))
    op.drop_table('connector_call')
