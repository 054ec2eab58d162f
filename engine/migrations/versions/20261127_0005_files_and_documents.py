"""files and documents: the content-addressed file store and issued documents

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 02:40:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_stored_file_case_id_case_record'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'],
                            name=op.f('fk_stored_file_uploaded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file'))
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_file_uploaded_by'), ['uploaded_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_file_case_id'), ['case_id'], unique=False)

    op.create_table('issued_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('title_id', sa.String(length=255), nullable=False),
    sa.Column('title_en', sa.String(length=255), nullable=False),
    sa.Column('number', sa.String(length=120), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('verify_code', sa.String(length=32), nullable=False),
    sa.Column('issued_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', engine.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('revoked_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_issued_document_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_issued_document_file_id_stored_file')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_document')),
    sa.UniqueConstraint('case_id', name=op.f('uq_issued_document_case_id')),
    sa.UniqueConstraint('verify_code', name=op.f('uq_issued_document_verify_code'))
    )
    with op.batch_alter_table('issued_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_document_process_key'), ['process_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('issued_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_document_process_key'))
    op.drop_table('issued_document')
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_case_id'))
        batch_op.drop_index(batch_op.f('ix_stored_file_uploaded_by'))
        batch_op.drop_index(batch_op.f('ix_stored_file_sha256'))
    op.drop_table('stored_file')
