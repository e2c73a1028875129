"""certificate kinds are names declared by the installed procedures, not a database enum

Drops the CHECK constraint that limited ``certificates.kind`` to four values: the kinds of document are
declared by the procedures (``workflows``) and checked by the certificate service against the registry, so
that a procedure issuing a new kind needs no migration. The column stays a ``VARCHAR(32)`` and existing rows
are unchanged. The downgrade restores the constraint (it fails while certificates of other kinds exist).

Revision ID: 5d3b9e7c1a84
Revises: a7c2e5d49f65
Create Date: 2026-12-02 05:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d3b9e7c1a84'
down_revision = 'a7c2e5d49f65'
branch_labels = None
depends_on = None

KINDS = ('licence', 'occupancy', 'access_response', 'committee_resolution')


def _enum() -> sa.Enum:
    return sa.Enum(*KINDS, name='certificatekind', native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=_enum(), type_=sa.String(length=32), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=_enum(), existing_nullable=False)
