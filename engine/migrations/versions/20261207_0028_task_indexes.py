"""task indexes: the escalation and claimant indexes hold only the rows that have one

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 00:00:00

Every step deletes the task it closes and inserts the ones it opens, and each write touches every
index of `task`. Most open tasks are neither escalated nor claimed, yet `ix_task_escalated_order`,
`ix_task_escalated_case` and `ix_task_assignee` held an entry for each of them. Every query that
reads these indexes asks for one value (`escalated_to = ?`, `assignee_id = ?`, and a user's
foreign-key check), which implies IS NOT NULL, so both databases still use them as partial indexes
(as `ix_task_escalated_priority` already was, 0027). A step's task writes skip them.
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

# name → (columns, the column whose NULL rows leave the index)
_INDEXES = {
    'ix_task_escalated_order': (['escalated_to', 'due_at', 'created_at', 'id'], 'escalated_to'),
    'ix_task_escalated_case': (['escalated_to', 'case_id'], 'escalated_to'),
    'ix_task_assignee': (['assignee_id'], 'assignee_id'),
}


def upgrade() -> None:
    # No batch mode: recreating `task` on SQLite would drop the task feed's triggers (0026).
    for name, (columns, column) in _INDEXES.items():
        op.drop_index(name, table_name='task')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'task', columns, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, (columns, _column) in _INDEXES.items():
        op.drop_index(name, table_name='task')
        op.create_index(name, 'task', columns, unique=False)
