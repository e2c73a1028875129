"""access requests: the appeal's pleadings and the closing of its instruction are acts of legal_bases

Version 3 of the access request gives the parties of an admitted appeal their term to plead (LGTAIP 2015 art. 150,
fr. II and III) and has the guarantor close the instruction before resolving (fr. VII). Both acts are told to the
parties with a legal basis: the new optional acts ``pleadings`` and ``instruction_closed`` of the ``legal_bases``
setting (a missing act cites its default). A jurisdiction that saved its ``legal_bases`` gets them with their
defaults written in, so that the administrator sees them on the settings page and can change them with the
others; its own citations are kept. Cases keep the settings they copied. Data only: no table changes. The
downgrade removes the two acts from the saved settings (the former code refuses an act it does not know).

Revision ID: 339a57f5d4da
Revises: c5e1a9d7b402
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "339a57f5d4da"
down_revision = "c5e1a9d7b402"
branch_labels = None
depends_on = None

WORKFLOW = "access_request"
LAW = "de la Ley General de Transparencia y Acceso a la Información Pública (DOF 4 de mayo de 2015)"
ADDED = {
    "pleadings": f"Artículo 150, fracciones II y III, {LAW}",
    "instruction_closed": f"Artículo 150, fracción VII, {LAW}",
}


def _upgraded(params):
    bases = params.get("legal_bases")
    if not isinstance(bases, dict):
        return params
    return {**params, "legal_bases": {**bases, **{act: text for act, text in ADDED.items() if act not in bases}}}


def _downgraded(params):
    bases = params.get("legal_bases")
    if not isinstance(bases, dict):
        return params
    return {**params, "legal_bases": {act: text for act, text in bases.items() if act not in ADDED}}


def _rewrite(change):
    conn = op.get_bind()
    configs = sa.table("workflow_configs", sa.column("workflow", sa.String), sa.column("params", sa.JSON))
    for name, params in conn.execute(
        sa.select(configs.c.workflow, configs.c.params).where(configs.c.workflow == WORKFLOW)
    ):
        if isinstance(params, dict) and change(params) != params:
            conn.execute(configs.update().where(configs.c.workflow == name).values(params=change(params)))


def upgrade():
    _rewrite(_upgraded)


def downgrade():
    _rewrite(_downgraded)
