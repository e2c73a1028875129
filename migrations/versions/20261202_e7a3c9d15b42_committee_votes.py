"""committee votes: the members present when the committee resolved an item and each one's vote

Revision ID: e7a3c9d15b42
Revises: f3b8d1e6a952
Create Date: 2026-12-02 09:10:00

The committee resolves in session with its quorum and by majority of votes (LGTAIP 2015 art. 43);
``committee_votes`` keeps, per agenda item, each member present and their vote, printed in the acta.
"""

import sqlalchemy as sa
from alembic import op

revision = 'e7a3c9d15b42'
down_revision = 'f3b8d1e6a952'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'committee_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('vote', sa.String(length=16), nullable=False),
        sa.CheckConstraint("vote IN ('favor', 'against', 'abstain')", name=op.f('ck_committee_votes_vote_known')),
        sa.ForeignKeyConstraint(
            ['item_id'], ['committee_items.id'], name=op.f('fk_committee_votes_item_id_committee_items'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_committee_votes_member_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_votes')),
        sa.UniqueConstraint('item_id', 'member_id', name='uq_committee_votes_item_member'),
    )
    with op.batch_alter_table('committee_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_votes_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('committee_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_votes_item_id'))
    op.drop_table('committee_votes')
