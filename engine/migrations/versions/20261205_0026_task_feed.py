"""task feed: a change log of open tasks, written by triggers on `task`

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 00:00:00

`task_feed` gets one row whenever a row of `task` is inserted, deleted, or changes its assignee or
escalation, from triggers, so every writer (the ORM, the engine's raw SQL, jobs, other processes)
feeds `GET /api/tasks/feed` (engine/cases/feed.py). On PostgreSQL `tx` is the writing transaction's
id, so a reader can tell which rows are settled; SQLite's writers take turns, so `seq` alone orders
them there. `AUTOINCREMENT` on SQLite: a sequence number is never reused after a prune.
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

COLUMNS = "tx, task_id, case_id, role, bound_org, escalated_to"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER task_feed_insert AFTER INSERT ON task BEGIN
        INSERT INTO task_feed ({COLUMNS}) VALUES (0, NEW.id, NEW.case_id, NEW.role, NEW.bound_org, NEW.escalated_to);
    END""",
    f"""CREATE TRIGGER task_feed_update AFTER UPDATE OF assignee_id, escalated_to ON task
        WHEN OLD.assignee_id IS NOT NEW.assignee_id OR OLD.escalated_to IS NOT NEW.escalated_to BEGIN
        INSERT INTO task_feed ({COLUMNS}) VALUES (0, NEW.id, NEW.case_id, NEW.role, NEW.bound_org, NEW.escalated_to);
    END""",
    f"""CREATE TRIGGER task_feed_delete AFTER DELETE ON task BEGIN
        INSERT INTO task_feed ({COLUMNS}) VALUES (0, OLD.id, OLD.case_id, OLD.role, OLD.bound_org, OLD.escalated_to);
    END""",
]

POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION task_feed_log() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO task_feed ({COLUMNS}) VALUES (pg_current_xact_id()::text::bigint, OLD.id, OLD.case_id,
                                                      OLD.role, OLD.bound_org, OLD.escalated_to);
        ELSE
            INSERT INTO task_feed ({COLUMNS}) VALUES (pg_current_xact_id()::text::bigint, NEW.id, NEW.case_id,
                                                      NEW.role, NEW.bound_org, NEW.escalated_to);
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER task_feed_insert_delete AFTER INSERT OR DELETE ON task FOR EACH ROW "
    "EXECUTE FUNCTION task_feed_log()",
    """CREATE TRIGGER task_feed_update AFTER UPDATE OF assignee_id, escalated_to ON task FOR EACH ROW
        WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.escalated_to IS DISTINCT FROM NEW.escalated_to)
        EXECUTE FUNCTION task_feed_log()""",
]


def upgrade() -> None:
    op.create_table('task_feed',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tx', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=130), nullable=False),
    sa.Column('bound_org', sa.String(length=64), nullable=True),
    sa.Column('escalated_to', sa.String(length=130), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_task_feed')),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_task_feed_tx_seq', 'task_feed', ['tx', 'seq'], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER task_feed_update ON task")
        op.execute("DROP TRIGGER task_feed_insert_delete ON task")
        op.execute("DROP FUNCTION task_feed_log()")
    else:
        for name in ("task_feed_insert", "task_feed_update", "task_feed_delete"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_index('ix_task_feed_tx_seq', table_name='task_feed')
    op.drop_table('task_feed')
