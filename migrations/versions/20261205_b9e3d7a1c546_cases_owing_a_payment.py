"""cases that owe a fee after the authority's silence, kept on the case and read through a partial index

The treasury's list of pending orders read every case resting in a state where a fee owed after afirmativa ficta
could still be confirmed (every licensed work, for years) to find the few whose data record no payment. The
flag is kept by every transition; the cases already there are marked from their data.

Revision ID: b9e3d7a1c546
Revises: a4c7e2b9d318
Create Date: 2026-12-05 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b9e3d7a1c546"
down_revision = "a4c7e2b9d318"
branch_labels = None
depends_on = None


def _late_states() -> list[tuple[str, list[str], str]]:
    """(workflow, states, operation field) of each installed procedure that lets a fee be paid after silence."""
    from workflows import REGISTRY

    found = []
    for procedure in REGISTRY:
        payment = procedure.payment
        if payment is None or payment.late_trigger is None:
            continue
        states = {
            state
            for workflow in procedure.workflows
            for t in workflow.transitions
            if t.trigger == payment.late_trigger
            for state in t.sources
        } - set(payment.awaiting_states)
        if states:
            found.append((procedure.name, sorted(states), payment.operation_field))
    return found


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("payment_owed", sa.Boolean(), server_default=sa.false(), nullable=False))
    postgresql = op.get_bind().dialect.name == "postgresql"
    for workflow, states, field in _late_states():
        operation = f"(data ->> '{field}')" if postgresql else f"json_extract(data, '$.{field}')"
        op.get_bind().execute(
            sa.text(
                f"UPDATE cases SET payment_owed = true WHERE workflow = :workflow AND state IN :states "
                f"AND ({operation} IS NULL OR {operation} = '')"
            ).bindparams(sa.bindparam("states", expanding=True)),
            {"workflow": workflow, "states": states},
        )
    op.create_index(
        "ix_cases_payment_owed",
        "cases",
        ["workflow"],
        unique=False,
        postgresql_where=sa.text("payment_owed"),
        sqlite_where=sa.text("payment_owed = 1"),
    )


def downgrade():
    op.drop_index("ix_cases_payment_owed", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("payment_owed")
