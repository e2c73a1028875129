"""the treasury role: the municipal treasury confirms payments of fees

Adds ``treasury`` to the roles a user may hold (the CHECK constraint on ``user_roles.role``): the treasury, not
the applicant, confirms that a payment order was paid (at its cashier, from the bank's reconciliation file or a
payment gateway). The downgrade removes the value again (it fails while someone holds the role).

Revision ID: d9e1f7a3b462
Revises: f2b8d6a41c93
Create Date: 2026-12-02 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9e1f7a3b462'
down_revision = 'f2b8d6a41c93'
branch_labels = None
depends_on = None

BEFORE = (
    'applicant', 'intake_clerk', 'reviewer', 'inspector', 'transparency_unit', 'area', 'committee_member',
    'guarantor', 'auditor', 'admin',
)
AFTER = (*BEFORE, 'treasury')


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='role', native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_enum(BEFORE), type_=_enum(AFTER), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_enum(AFTER), type_=_enum(BEFORE), existing_nullable=False)
