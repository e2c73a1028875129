"""access-to-information requests: area turns, committee sessions, appeals

Revision ID: e5a0c3b27d43
Revises: d4f9b2a16c32
Create Date: 2026-11-27 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a0c3b27d43'
down_revision = 'd4f9b2a16c32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('running', 'paused', 'stopped', 'lapsed', name='clockstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('used_days', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('segment_notified_on', sa.Date(), nullable=True),
    sa.Column('lapsed_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('term_days >= 1', name=op.f('ck_case_clocks_term_positive')),
    sa.CheckConstraint('used_days >= 0 AND extension_days >= 0', name=op.f('ck_case_clocks_days_not_negative')),
    sa.CheckConstraint("(status = 'running') = (segment_notified_on IS NOT NULL)", name=op.f('ck_case_clocks_running_has_segment')),
    sa.CheckConstraint("(status = 'lapsed') = (lapsed_on IS NOT NULL)", name=op.f('ck_case_clocks_lapsed_has_day')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_clocks_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_clocks')),
    sa.UniqueConstraint('case_id', 'name', name='uq_case_clocks_case_name')
    )
    op.create_index(op.f('ix_case_clocks_case_id'), 'case_clocks', ['case_id'], unique=False)
    op.create_table('access_requests',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=120), nullable=False),
    sa.Column('delivery_format', sa.String(length=32), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_access_requests_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_access_requests_requester_id_users')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_access_requests')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_access_requests_token_sha256'))
    )
    op.create_index(op.f('ix_access_requests_requester_id'), 'access_requests', ['requester_id'], unique=False)
    op.create_table('area_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=64), nullable=False),
    sa.Column('turned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_kind', sa.Enum('available', 'reserved', 'confidential', 'inexistent', name='answerkind', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.Column('harm_test', sa.Text(), nullable=True),
    sa.Column('reservation_years', sa.Integer(), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('redactions', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(answer_kind IS NULL) = (answered_at IS NULL)', name=op.f('ck_area_turns_answer_has_time')),
    sa.CheckConstraint("answer_kind NOT IN ('reserved', 'confidential') OR legal_basis IS NOT NULL", name=op.f('ck_area_turns_classified_has_basis')),
    sa.CheckConstraint("answer_kind <> 'reserved' OR (harm_test IS NOT NULL AND reservation_years BETWEEN 1 AND 5)", name=op.f('ck_area_turns_reserved_has_harm_test')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_area_turns_answered_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_area_turns_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_code'], ['departments.code'], name=op.f('fk_area_turns_department_code_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_turns')),
    sa.UniqueConstraint('case_id', 'department_code', name='uq_area_turns_case_department')
    )
    op.create_index(op.f('ix_area_turns_case_id'), 'area_turns', ['case_id'], unique=False)
    op.create_table('committee_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_committee_sessions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_sessions')),
    sa.UniqueConstraint('number', name=op.f('uq_committee_sessions_number'))
    )
    op.create_table('committee_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('matter', sa.Enum('classification', 'inexistence', 'extension', name='committeematter', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('decision', sa.Enum('confirm', 'modify', 'revoke', 'approve', 'reject', name='committeedecision', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('resolution_text', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=True),
    sa.CheckConstraint('(decision IS NULL) = (decided_at IS NULL)', name=op.f('ck_committee_items_decision_has_time')),
    sa.CheckConstraint('decision IS NULL OR resolution_text IS NOT NULL', name=op.f('ck_committee_items_decision_has_text')),
    sa.ForeignKeyConstraint(['audit_seq'], ['audit_entries.seq'], name=op.f('fk_committee_items_audit_seq_audit_entries')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_committee_items_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_committee_items_decided_by_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['committee_sessions.id'], name=op.f('fk_committee_items_session_id_committee_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_items'))
    )
    op.create_index('ix_committee_items_case', 'committee_items', ['case_id'], unique=False)
    op.create_index(op.f('ix_committee_items_session_id'), 'committee_items', ['session_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_committee_items_session_id'), table_name='committee_items')
    op.drop_index('ix_committee_items_case', table_name='committee_items')
    op.drop_table('committee_items')
    op.drop_table('committee_sessions')
    op.drop_index(op.f('ix_area_turns_case_id'), table_name='area_turns')
    op.drop_table('area_turns')
    op.drop_index(op.f('ix_access_requests_requester_id'), table_name='access_requests')
    op.drop_table('access_requests')
    op.drop_index(op.f('ix_case_clocks_case_id'), table_name='case_clocks')
    op.drop_table('case_clocks')
