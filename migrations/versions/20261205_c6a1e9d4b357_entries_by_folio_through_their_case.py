"""the log's entries of a folio found through their case: the index of the entries' folios dropped

Every entry that names a case names it by its id and its folio, both written from the case. The oversight
filter by folio now finds the case by its folio (the cases' unique index) and its entries through the index of
a case's entries, which every entry writes anyway: an index fewer to write on every transition (a page of
SQLite's log each) and to keep for every entry.

Revision ID: c6a1e9d4b357
Revises: b4e8c2a6f173
Create Date: 2026-12-05 11:10:00
"""

from alembic import op

revision = "c6a1e9d4b357"
down_revision = "b4e8c2a6f173"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_audit_entries_folio_seq", table_name="audit_entries")


def downgrade():
    op.create_index("ix_audit_entries_folio_seq", "audit_entries", ["folio", "seq"], unique=False)
