"""survey and escalation: SKM responses, closed-task spans for SLA figures, escalation of open tasks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_to', sa.String(length=130), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', engine.db.UtcDateTime(timezone=True), nullable=True))

    op.create_table('task_span',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=130), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('bound_org', sa.String(length=64), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('due_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('completed', sa.Boolean(), nullable=False),
    sa.Column('escalated_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_task_span_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_span'))
    )
    with op.batch_alter_table('task_span', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_span_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_task_span_process_closed', ['process_key', 'closed_at'], unique=False)
        batch_op.create_index('ix_task_span_agency_closed', ['agency', 'closed_at'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    *[sa.Column(f'u{n}', sa.Integer(), nullable=False) for n in range(1, 10)],
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('submitted_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_survey_response_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('case_id', name=op.f('uq_survey_response_case_id'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_response_process_submitted', ['process_key', 'submitted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_response_process_submitted')
    op.drop_table('survey_response')
    with op.batch_alter_table('task_span', schema=None) as batch_op:
        batch_op.drop_index('ix_task_span_agency_closed')
        batch_op.drop_index('ix_task_span_process_closed')
        batch_op.drop_index(batch_op.f('ix_task_span_case_id'))
    op.drop_table('task_span')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('escalated_to')
