"""drafts and retirement: packages edited in the studio, services withdrawn from the catalogue

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:00:00

`package_draft` and `draft_file` hold packages being edited in the browser (not versions: changed in
place, with a revision counter for conflict detection). `retired_process` lists process keys taken
out of the catalogue; their running cases finish.
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retired_process',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('retired_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('retired_by', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_retired_process'))
    )
    op.create_table('package_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('agency', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_draft')),
    sa.UniqueConstraint('key', name=op.f('uq_package_draft_key'))
    )
    with op.batch_alter_table('package_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_draft_agency'), ['agency'], unique=False)
    op.create_table('draft_file',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['package_draft.id'], name=op.f('fk_draft_file_draft_id_package_draft'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', 'name', name=op.f('pk_draft_file'))
    )


def downgrade() -> None:
    op.drop_table('draft_file')
    with op.batch_alter_table('package_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_draft_agency'))
    op.drop_table('package_draft')
    op.drop_table('retired_process')
