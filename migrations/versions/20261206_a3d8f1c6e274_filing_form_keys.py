"""the key of each access-request filing form and personal-data registration form: sent twice, one request

A double click on the filing form filed two requests, each with its folio and legal term. Each form now carries
a fresh key; the request it filed is kept under it, with (for a short window) the digest of what was filed and the
tracking token sealed, so that a repeat shows the same working link. The administrator's registration of a
personal-data request registered two requests, each with its term; the request now keeps its form's key.

Revision ID: a3d8f1c6e274
Revises: f4c8a2e6b913
Create Date: 2026-12-06 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a3d8f1c6e274"
down_revision = "f4c8a2e6b913"
branch_labels = None
depends_on = None

SEALED = "sealed_token IS NOT NULL"


def upgrade():
    op.create_table(
        "access_filing_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=True),
        sa.Column("sealed_token", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_access_filing_keys_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_access_filing_keys")),
    )
    op.create_index(op.f("ix_access_filing_keys_case_id"), "access_filing_keys", ["case_id"], unique=False)
    op.create_index(
        "ix_access_filing_keys_sealed",
        "access_filing_keys",
        ["created_at"],
        postgresql_where=sa.text(SEALED),
        sqlite_where=sa.text(SEALED),
    )


    op.add_column("personal_data_requests", sa.Column("form_key", sa.String(length=64), nullable=True))
    op.create_index("ix_personal_data_requests_form_key", "personal_data_requests", ["form_key"], unique=True)


def downgrade():
    op.drop_index("ix_personal_data_requests_form_key", table_name="personal_data_requests")
    with op.batch_alter_table("personal_data_requests") as batch:
        batch.drop_column("form_key")
    op.drop_index("ix_access_filing_keys_sealed", table_name="access_filing_keys")
    op.drop_index(op.f("ix_access_filing_keys_case_id"), table_name="access_filing_keys")
    op.drop_table("access_filing_keys")
