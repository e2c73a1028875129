"""Publication sampling seeds committed per quarter; supplementary draws; no seed among the settings

Revision ID: a7c3e9d51f28
Revises: d2f6a8c31e07
Create Date: 2026-12-02 09:15:00

The seed of the guarantor's verification draw is no longer a setting of the audited body: each quarter gets
its own, committed (SHA-256 logged) when the quarter opens and revealed by the draw. ``publication_seeds``
keeps the commitment, the encrypted seed and its reveal; ``publication_samples`` gains the round
(0 = the draw after the deadline, 1… = supplementary draws over records published after it) and the counts
of missing and late records. The old ``sample_seed`` setting is removed from the settings and from the
publication cases that copied it (it was readable by the audited body, so it can no longer be trusted).
"""

import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9d51f28'
down_revision = 'd2f6a8c31e07'
branch_labels = None
depends_on = None

WORKFLOW = 'obligation_publication'
SEED = 'sample_seed'


def _drop_seed_setting():
    conn = op.get_bind()
    configs = sa.table('workflow_configs', sa.column('workflow', sa.String), sa.column('params', sa.JSON))
    for name, params in conn.execute(sa.select(configs.c.workflow, configs.c.params).where(configs.c.workflow == WORKFLOW)):
        if isinstance(params, dict) and SEED in params:
            kept = {k: v for k, v in params.items() if k != SEED}
            conn.execute(configs.update().where(configs.c.workflow == name).values(params=kept))
    cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('workflow', sa.String), sa.column('params', sa.JSON))
    for case_id, params in conn.execute(sa.select(cases.c.id, cases.c.params).where(cases.c.workflow == WORKFLOW)):
        if isinstance(params, dict) and SEED in params:
            kept = {k: v for k, v in params.items() if k != SEED}
            conn.execute(cases.update().where(cases.c.id == case_id).values(params=kept))


def upgrade():
    op.create_table(
        'publication_seeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('quarter', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('seed_encrypted', sa.Text(), nullable=False),
        sa.Column('commit_seq', sa.Integer(), nullable=False),
        sa.Column('published_at_commit', sa.Integer(), nullable=False),
        sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revealed_seed', sa.String(length=200), nullable=True),
        sa.Column('reveal_seq', sa.Integer(), nullable=True),
        sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('quarter BETWEEN 1 AND 4', name=op.f('ck_publication_seeds_quarter_range')),
        sa.CheckConstraint(
            '(revealed_seed IS NULL) = (reveal_seq IS NULL)', name=op.f('ck_publication_seeds_revealed_with_entry')
        ),
        sa.ForeignKeyConstraint(
            ['commit_seq'], ['audit_entries.seq'], name=op.f('fk_publication_seeds_commit_seq_audit_entries')
        ),
        sa.ForeignKeyConstraint(
            ['reveal_seq'], ['audit_entries.seq'], name=op.f('fk_publication_seeds_reveal_seq_audit_entries')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_seeds')),
        sa.UniqueConstraint('year', 'quarter', name='uq_publication_seeds_period'),
    )
    with op.batch_alter_table('publication_samples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('missing', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('late', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint('uq_publication_samples_period', type_='unique')
        batch_op.create_unique_constraint('uq_publication_samples_period_round', ['year', 'quarter', 'round'])
        batch_op.create_check_constraint(op.f('ck_publication_samples_missing_within_selected'), 'missing >= 0 AND missing <= selected')
        batch_op.create_check_constraint(op.f('ck_publication_samples_round_not_negative'), 'round >= 0')
    with op.batch_alter_table('publication_samples', schema=None) as batch_op:
        batch_op.alter_column('round', server_default=None)
        batch_op.alter_column('missing', server_default=None)
        batch_op.alter_column('late', server_default=None)
    _drop_seed_setting()


def downgrade():
    # The removed seed setting is not restored: the publication workflow falls back to a generated seed.
    op.execute(sa.text('DELETE FROM publication_samples WHERE round > 0'))
    with op.batch_alter_table('publication_samples', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_publication_samples_round_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_publication_samples_missing_within_selected'), type_='check')
        batch_op.drop_constraint('uq_publication_samples_period_round', type_='unique')
        batch_op.create_unique_constraint('uq_publication_samples_period', ['year', 'quarter'])
        batch_op.drop_column('late')
        batch_op.drop_column('missing')
        batch_op.drop_column('round')
    op.drop_table('publication_seeds')
