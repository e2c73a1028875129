"""counts that do not grow with the data: the users kept by triggers, departments' grants and cases by index

``row_counts``: how many rows a table holds, one row per table, kept by triggers on every insert and delete;
``users`` is the first (the administration's home page shows it, and every citizen who files is a user: counting
them read the table whole on every view). ``user_roles`` and ``cases``: partial indexes of the rows that name a
department (staff grants; cases at a department's stage), so the departments page counts those rows instead of
reading every grant and every case.

Revision ID: b6f2d9e4a317
Revises: e8b2d5f1a946
Create Date: 2026-12-05 01:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b6f2d9e4a317"
down_revision = "e8b2d5f1a946"
branch_labels = None
depends_on = None

DEPARTMENT_INDEXES = (("ix_user_roles_department", "user_roles"), ("ix_cases_department", "cases"))


def upgrade():
    op.create_table(
        "row_counts",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_row_counts")),
    )
    op.execute("INSERT INTO row_counts (name, n) SELECT 'users', count(*) FROM users")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION users_counted() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    UPDATE row_counts SET n = n + 1 WHERE name = 'users';
                ELSIF TG_OP = 'DELETE' THEN
                    UPDATE row_counts SET n = n - 1 WHERE name = 'users';
                ELSE
                    UPDATE row_counts SET n = 0 WHERE name = 'users';
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_counted()"
        )
        op.execute(
            "CREATE TRIGGER users_counted_truncate AFTER TRUNCATE ON users "
            "FOR EACH STATEMENT EXECUTE FUNCTION users_counted()"
        )
    else:
        op.execute(
            "CREATE TRIGGER users_counted_insert AFTER INSERT ON users "
            "BEGIN UPDATE row_counts SET n = n + 1 WHERE name = 'users'; END"
        )
        op.execute(
            "CREATE TRIGGER users_counted_delete AFTER DELETE ON users "
            "BEGIN UPDATE row_counts SET n = n - 1 WHERE name = 'users'; END"
        )
    for name, table in DEPARTMENT_INDEXES:
        op.create_index(
            name,
            table,
            ["department_code"],
            unique=False,
            postgresql_where=sa.text("department_code IS NOT NULL"),
            sqlite_where=sa.text("department_code IS NOT NULL"),
        )


def downgrade():
    for name, table in reversed(DEPARTMENT_INDEXES):
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS users_counted_truncate ON users")
        op.execute("DROP TRIGGER IF EXISTS users_counted ON users")
        op.execute("DROP FUNCTION IF EXISTS users_counted()")
    else:
        op.execute("DROP TRIGGER IF EXISTS users_counted_delete")
        op.execute("DROP TRIGGER IF EXISTS users_counted_insert")
    op.drop_table("row_counts")
