"""connector bindings: partner systems' base URLs and sealed credentials, set by admins

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:00:00

`connector_binding` holds, per partner system and environment, the base URL the package's
paths are joined to and the credential sent with each call (sealed with MPP_SECRET_KEY).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('connector_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=64), nullable=False),
    sa.Column('environment', sa.String(length=32), nullable=False),
    sa.Column('base_url', sa.String(length=2000), nullable=False),
    sa.Column('auth_kind', sa.String(length=16), nullable=False),
    sa.Column('auth_header', sa.String(length=120), nullable=True),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connector_binding')),
    sa.UniqueConstraint('system', 'environment', name=op.f('uq_connector_binding_system'))
    )


def downgrade() -> None:
    op.drop_table('connector_binding')
