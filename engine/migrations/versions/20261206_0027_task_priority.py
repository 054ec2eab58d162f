"""task priority: the web inbox's priority queue from an index

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 00:00:00

The officers' web inbox (`/kotak-tugas`, `/pengawasan`; engine/cases/worklist.py) lists priority cases
first (`case_record.priority`), then by due date. Sorting on the case's column read and sorted every
open task in scope joined to its case. `task.prioritized` copies whether the case has priority service
(written with the task row, engine/cases/hotsql.py), so the page walks an index per lane in its order
and stops at the page: per role (with the columns the lane filters on), per escalated supervisor role,
and per agency (a supervisor's queue). Existing rows are filled from their case. The step filter's
choices (the steps with open tasks in scope) are read one index seek per step, per role and per agency.
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No batch mode: recreating `task` on SQLite would drop the task feed's triggers (0026).
    op.add_column('task', sa.Column('prioritized', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE task SET prioritized = (SELECT c.priority IS NOT NULL FROM case_record c "
               "WHERE c.id = task.case_id)")
    op.create_index('ix_task_role_priority', 'task',
                    ['role', 'prioritized', 'due_at', 'created_at', 'id', 'bound_org', 'assignee_id'], unique=False)
    # Partial: few tasks are escalated; planners trust `escalated_to = ?` only with statistics of those few.
    escalated = sa.text('escalated_to IS NOT NULL')
    op.create_index('ix_task_escalated_priority', 'task', ['escalated_to', 'prioritized', 'due_at', 'created_at', 'id'],
                    unique=False, sqlite_where=escalated, postgresql_where=escalated)
    op.create_index('ix_task_agency_priority', 'task', ['agency', 'prioritized', 'due_at', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_task_role_step', 'task', ['role', 'process_key', 'element_id', 'name'], unique=False)
    op.create_index('ix_task_agency_step', 'task', ['agency', 'process_key', 'element_id', 'name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_task_agency_step', table_name='task')
    op.drop_index('ix_task_role_step', table_name='task')
    op.drop_index('ix_task_agency_priority', table_name='task')
    op.drop_index('ix_task_escalated_priority', table_name='task')
    op.drop_index('ix_task_role_priority', table_name='task')
    op.drop_column('task', 'prioritized')
