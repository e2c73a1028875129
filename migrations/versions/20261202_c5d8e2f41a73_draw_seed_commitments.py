"""Draw seeds committed per quarter; the inspection seed is no longer a setting

Revision ID: c5d8e2f41a73
Revises: b4c8e2f61a07
Create Date: 2026-12-02 11:40:00

The seed of a draw a workflow makes when a case enters a state (VECS: which completed works are inspected) is
no longer a setting of the municipality whose works are drawn: ``draw_seeds`` keeps one per draw and quarter,
committed (SHA-256 logged) before the quarter's draws and revealed when it is over. The old ``inspection_seed``
setting is removed from the settings and from the cases that copied it (it was readable and editable by the
audited body, so it can no longer be trusted).
"""

import sqlalchemy as sa
from alembic import op

revision = 'c5d8e2f41a73'
down_revision = 'b4c8e2f61a07'
branch_labels = None
depends_on = None

SEED = 'inspection_seed'


def _drop_seed_setting():
    conn = op.get_bind()
    configs = sa.table('workflow_configs', sa.column('workflow', sa.String), sa.column('params', sa.JSON))
    for name, params in conn.execute(sa.select(configs.c.workflow, configs.c.params)):
        if isinstance(params, dict) and SEED in params:
            kept = {k: v for k, v in params.items() if k != SEED}
            conn.execute(configs.update().where(configs.c.workflow == name).values(params=kept))
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('params', sa.JSON))
    for case_id, params in conn.execute(sa.select(cases.c.id, cases.c.params)):
        if isinstance(params, dict) and SEED in params:
            kept = {k: v for k, v in params.items() if k != SEED}
            conn.execute(cases.update().where(cases.c.id == case_id).values(params=kept))


def upgrade():
    op.create_table(
        'draw_seeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=140), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('seed_encrypted', sa.Text(), nullable=False),
        sa.Column('commit_seq', sa.Integer(), nullable=False),
        sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revealed_seed', sa.String(length=200), nullable=True),
        sa.Column('reveal_seq', sa.Integer(), nullable=True),
        sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            '(revealed_seed IS NULL) = (reveal_seq IS NULL)', name=op.f('ck_draw_seeds_revealed_with_entry')
        ),
        sa.ForeignKeyConstraint(['commit_seq'], ['audit_entries.seq'], name=op.f('fk_draw_seeds_commit_seq_audit_entries')),
        sa.ForeignKeyConstraint(['reveal_seq'], ['audit_entries.seq'], name=op.f('fk_draw_seeds_reveal_seq_audit_entries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_seeds')),
        sa.UniqueConstraint('scope', 'period', name='uq_draw_seeds_scope_period'),
    )
    _drop_seed_setting()


def downgrade():
    # The removed seed setting is not restored: a published default would make the draws predictable.
    op.drop_table('draw_seeds')
