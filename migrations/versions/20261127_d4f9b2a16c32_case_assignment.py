"""case assignment: random reviewer draws, reassignments and recusals

Revision ID: d4f9b2a16c32
Revises: c3e8a1f05b21
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f9b2a16c32'
down_revision = 'c3e8a1f05b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment_exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('recusal', 'reassignment', name='exclusionkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_assignment_exclusions_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assignment_exclusions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignment_exclusions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment_exclusions')),
    sa.UniqueConstraint('case_id', 'user_id', 'kind', name='uq_assignment_exclusions_case_user_kind')
    )
    with op.batch_alter_table('assignment_exclusions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_exclusions_case_id'), ['case_id'], unique=False)

    op.create_table('case_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('target_missed', 'deadline_lapsed', name='escalationkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=True),
    sa.Column('notified', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_escalations_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_case_escalations_department_code_departments')),
    sa.ForeignKeyConstraint(['timer_id'], ['timers.id'], name=op.f('fk_case_escalations_timer_id_timers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_escalations')),
    sa.UniqueConstraint('timer_id', name=op.f('uq_case_escalations_timer_id'))
    )
    with op.batch_alter_table('case_escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_escalations_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_escalations_case_id'))

    op.drop_table('case_escalations')
    with op.batch_alter_table('assignment_exclusions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_exclusions_case_id'))

    op.drop_table('assignment_exclusions')
