"""skm report: the respondent profile and the collection channel on each survey answer

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 00:00:00

PermenPAN-RB 14/2017's questionnaire asks the respondent's sex, age, education and occupation; the
semester report breaks the respondents down by them. They are stored as category codes (nullable:
answers given before, or through an API client that does not ask them, have none). `channel` tells
an online answer ("daring") from one given at the counter kiosk ("kiosk"); a kiosk answer may name
no case, so `case_id` becomes nullable (still unique: one answer per case).
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('age_group', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('education', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('occupation', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='daring', nullable=False))
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM survey_response WHERE case_id IS NULL")
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('channel')
        batch_op.drop_column('occupation')
        batch_op.drop_column('education')
        batch_op.drop_column('age_group')
        batch_op.drop_column('gender')
