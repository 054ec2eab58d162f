"""inbox plans: a service's cases by status, newest first, from one index

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 00:00:00

The staff case search filtered by service and status (`engine.cases.service.list_cases`, admin) pages
and counts the matching cases newest first, up to `listing.TOTAL_CAP` + 1. `ix_case_record_status_process`
found them but not in id order: PostgreSQL read every match from the table and sorted it (50,000 rows of
a busy service, ~0.4 s at 1,000,000 cases), or walked the primary key backwards past every other case
(a service with none running). With `id` as the index's last column the walk reads the index backwards
and stops at the page. SQLite already ordered it so (its rowid ends every index); the index replaces
the old one, whose leading columns it keeps, on both databases.
"""
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_record_status_process_id', 'case_record', ['status', 'process_key', 'id'], unique=False)
    op.drop_index('ix_case_record_status_process', table_name='case_record')


def downgrade() -> None:
    op.create_index('ix_case_record_status_process', 'case_record', ['status', 'process_key'], unique=False)
    op.drop_index('ix_case_record_status_process_id', table_name='case_record')
