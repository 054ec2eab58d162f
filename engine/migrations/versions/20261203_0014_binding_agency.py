"""binding agency: a partner system's binding per agency and environment

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:00:00

`connector_binding.agency` names the agency a binding belongs to; the empty string (every row
before this release) binds the system for every agency. A call uses the binding of the case's
agency in the platform's environment (MPP_ENVIRONMENT), else the all-agencies binding there.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('connector_binding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_constraint('uq_connector_binding_system', type_='unique')
        batch_op.create_unique_constraint('uq_connector_binding_system', ['system', 'agency', 'environment'])


def downgrade() -> None:
    # Agency bindings cannot be kept under the old (system, environment) key: drop them.
    op.execute(sa.text("DELETE FROM connector_binding WHERE agency <> ''"))
    with op.batch_alter_table('connector_binding', schema=None) as batch_op:
        batch_op.drop_constraint('uq_connector_binding_system', type_='unique')
        batch_op.create_unique_constraint('uq_connector_binding_system', ['system', 'environment'])
        batch_op.drop_column('agency')
