"""data encryption: the lookup hashes that find a case by its full NIK while the NIK is sealed

Sensitive values are sealed inside the existing JSON and text columns (case_record.data,
case_state.payload, case_event.diff), so no column changes type; values written before this
revision stay readable as they are, and `mpp keys rotate` seals them and fills their lookups.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_lookup",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"], name=op.f("fk_case_lookup_case_id_case_record"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "field", name=op.f("pk_case_lookup")),
    )
    op.create_index(op.f("ix_case_lookup_hash"), "case_lookup", ["hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_lookup_hash"), table_name="case_lookup")
    op.drop_table("case_lookup")
