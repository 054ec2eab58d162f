"""case search: indexes that walk each source of an officer's cases newest first

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 00:00:00

The officer's case list (engine/cases/listing.py) reads the cases they filed, the cases with an
open task of their roles (or escalated to them, or of an agency they oversee) and the cases with a
past task of an agency they oversee, each in case-id order from its own index, a page at a time.
"""
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_record_filed_by_id', 'case_record', ['filed_by_id', 'id'])
    op.create_index('ix_task_role_case', 'task', ['role', 'case_id'])
    op.create_index('ix_task_escalated_case', 'task', ['escalated_to', 'case_id'])
    op.create_index('ix_task_agency_case', 'task', ['agency', 'case_id'])
    op.create_index('ix_task_span_agency_case', 'task_span', ['agency', 'case_id'])


def downgrade() -> None:
    op.drop_index('ix_task_span_agency_case', table_name='task_span')
    op.drop_index('ix_task_agency_case', table_name='task')
    op.drop_index('ix_task_escalated_case', table_name='task')
    op.drop_index('ix_task_role_case', table_name='task')
    op.drop_index('ix_case_record_filed_by_id', table_name='case_record')
