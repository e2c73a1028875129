"""access requests: the cost sheet's citations and the appeal's admission and dismissal are acts of legal_bases

The rows of the cost sheet cited the 2015 general law whatever the jurisdiction's ``legal_bases`` said: article
141 for pages, media and envío, article 134 for a late response delivered free, article 141's last paragraph for
a waiver. They are now the acts ``reproduction_costs``, ``late_response`` and ``cost_waiver``, optional in the
setting (a missing act cites its default), as are the new ``admission``, ``dismissal`` and
``appeal_prevention`` of an appeal by the guarantor (arts. 146 and 150, fr. I; 150, fr. I, and 155; 145 and 155,
fr. IV). A jurisdiction that saved its ``legal_bases`` gets the acts
with their defaults written in, so that the administrator sees them on the settings page and can change them
with the others. Cases keep the settings they copied (a missing act cites the default there too). Data only:
no table changes. The downgrade removes the six acts from the saved settings (the former code refuses an act
it does not know when the settings are saved).

Revision ID: 258f280a7818
Revises: a3d8f1c6e274
Create Date: 2026-12-06 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "258f280a7818"
down_revision = "a3d8f1c6e274"
branch_labels = None
depends_on = None

WORKFLOW = "access_request"
LAW = "de la Ley General de Transparencia y Acceso a la Información Pública (DOF 4 de mayo de 2015)"
ADDED = {
    "reproduction_costs": f"Artículo 141 {LAW}",
    "late_response": f"Artículo 134 {LAW}",
    "cost_waiver": f"Artículo 141, último párrafo, {LAW}",
    "admission": f"Artículos 146 y 150, fracción I, {LAW}",
    "dismissal": f"Artículos 150, fracción I, y 155 {LAW}",
    "appeal_prevention": f"Artículos 145 y 155, fracción IV, {LAW}",
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
