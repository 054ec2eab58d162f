"""inbox keyset: indexes in the inbox's order, per role and per escalated supervisor role

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 00:00:00

The inbox (engine/cases/inbox.py) walks each role's open tasks in its order, `due_at, created_at, id`,
from a cursor and stops at the page size; `(role, due_at)` gave no order past the due date. The new
`(role, due_at, created_at, id, bound_org, assignee_id)` index replaces it (it serves every query the old
one did); its last two columns let the walk skip other organisations' and officers' tasks, and the capped
count run, from the index alone.
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_task_role_order', 'task', ['role', 'due_at', 'created_at', 'id', 'bound_org', 'assignee_id'],
                    unique=False)
    op.create_index('ix_task_escalated_order', 'task', ['escalated_to', 'due_at', 'created_at', 'id'], unique=False)
    op.drop_index('ix_task_role_due', table_name='task')


def downgrade() -> None:
    op.create_index('ix_task_role_due', 'task', ['role', 'due_at'], unique=False)
    op.drop_index('ix_task_escalated_order', table_name='task')
    op.drop_index('ix_task_role_order', table_name='task')
