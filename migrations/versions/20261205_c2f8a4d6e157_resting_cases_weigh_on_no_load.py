"""cases resting where no public servant has a step they wait for weigh on no reviewer's load

The reviewers' draws choose among the least loaded, counting the open cases assigned to each; a licensed work
rests open for years waiting on its owner, so a reviewer who granted many licences was never again the least
loaded and a newcomer drew every case. ``resting`` is kept by every transition; the cases already there are
marked from their state; the partial index of open cases' assignees leaves the resting ones out, and a new one
finds the cases waiting for each department (its page's count, the assignment overview).

Revision ID: c2f8a4d6e157
Revises: b9e3d7a1c546
Create Date: 2026-12-05 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c2f8a4d6e157"
down_revision = "b9e3d7a1c546"
branch_labels = None
depends_on = None


def _resting_states() -> list[tuple[str, int, list[str]]]:
    """(workflow, version, states) where no public servant has a step a case waits for, of every installed
    procedure (the rule of ``app.services.assignment.rests``, on the definitions as they are now)."""
    from workflows import REGISTRY

    staff = {"system", "applicant"}
    found = []
    for procedure in REGISTRY:
        for workflow in procedure.workflows:
            states = [
                state.name
                for state in workflow.states
                if not any(
                    not t.owner_only and not t.exceptional and t.roles - staff
                    for t in workflow.transitions_from(state.name)
                )
            ]
            if states:
                found.append((workflow.name, workflow.version, states))
    return found


def _partial_index(name: str, column: str, where: str) -> None:
    op.create_index(
        name,
        "cases",
        [column],
        unique=False,
        postgresql_where=sa.text(where.replace("resting = 0", "NOT resting")),
        sqlite_where=sa.text(where),
    )


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("resting", sa.Boolean(), server_default=sa.false(), nullable=False))
    for workflow, version, states in _resting_states():
        op.get_bind().execute(
            sa.text(
                "UPDATE cases SET resting = true WHERE workflow = :workflow AND workflow_version = :version "
                "AND state IN :states"
            ).bindparams(sa.bindparam("states", expanding=True)),
            {"workflow": workflow, "version": version, "states": states},
        )
    op.drop_index("ix_cases_open_assignee", table_name="cases")
    _partial_index("ix_cases_open_assignee", "assignee_id", "closed_at IS NULL AND resting = 0")
    _partial_index("ix_cases_department_waiting", "department_code", "department_code IS NOT NULL AND resting = 0")


def downgrade():
    op.drop_index("ix_cases_department_waiting", table_name="cases")
    op.drop_index("ix_cases_open_assignee", table_name="cases")
    op.create_index(
        "ix_cases_open_assignee",
        "cases",
        ["assignee_id"],
        unique=False,
        postgresql_where=sa.text("closed_at IS NULL"),
        sqlite_where=sa.text("closed_at IS NULL"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("resting")
