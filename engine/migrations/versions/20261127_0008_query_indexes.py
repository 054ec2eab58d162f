"""query indexes: cases filed by an officer, events by actor

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 03:00:00

Found by bench/queries.py on a million seeded cases: the inbox's own-cases condition
(`applicant_id IS NULL AND filed_by_id = ?`) and the staff case search (`filed_by_id = ?`,
`case_id IN (events by this actor)`) scanned whole tables without them.
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_record_filed_by_applicant', 'case_record', ['filed_by_id', 'applicant_id'])
    op.create_index('ix_case_event_actor_case', 'case_event', ['actor', 'case_id'])


def downgrade() -> None:
    op.drop_index('ix_case_event_actor_case', table_name='case_event')
    op.drop_index('ix_case_record_filed_by_applicant', table_name='case_record')
