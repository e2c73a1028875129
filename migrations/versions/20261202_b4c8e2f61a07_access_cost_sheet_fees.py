"""access requests: reproduction fees per page, per medium or free (the cost sheet); payment term ≤ 30 days

The access request's ``reproduction_fees`` setting was one flat amount per delivery modality. The cost sheet
(LGTAIP 2015 art. 141) charges per page (the first twenty simple pages free), per medium, or nothing, so each
entry becomes ``{"unit": …, "fee": …}``: a modality that cost nothing is ``free``; simple and certified copies
are charged per page at the new default fees (a flat amount was not the fee of a page); any other modality is
charged its former amount per medium. A payment term over thirty days becomes thirty (art. 134). The same is
done to the settings each access request copied when it was opened. Data only: no table changes. The
downgrade writes one flat amount per modality back (the page or medium fee; 0 for a free one).

Revision ID: b4c8e2f61a07
Revises: d9e1f7a3b462
Create Date: 2026-12-02 11:30:00.000000

"""
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b4c8e2f61a07'
down_revision = 'd9e1f7a3b462'
branch_labels = None
depends_on = None

WORKFLOW = 'access_request'
PER_PAGE = {
    'simple_copies': {'unit': 'simple_page', 'fee': '1.00'},
    'certified_copies': {'unit': 'certified_page', 'fee': '20.00'},
}


def _amount(value):
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def _to_sheet(fees):
    converted = {}
    for code, value in fees.items():
        if isinstance(value, dict):  # already in the new shape
            converted[code] = value
            continue
        amount = _amount(value)
        if code in PER_PAGE:
            converted[code] = dict(PER_PAGE[code])
        elif amount is None or amount == 0:
            converted[code] = {'unit': 'free', 'fee': '0.00'}
        else:
            converted[code] = {'unit': 'medium', 'fee': f'{amount.quantize(Decimal("0.01"))}'}
    return converted


def _to_flat(fees):
    flat = {}
    for code, value in fees.items():
        if isinstance(value, dict):
            amount = _amount(value.get('fee')) if value.get('unit') != 'free' else Decimal(0)
            flat[code] = f'{(amount or Decimal(0)).quantize(Decimal("0.01"))}'
        else:
            flat[code] = value
    return flat


def _upgraded(params):
    changed = dict(params)
    if isinstance(params.get('reproduction_fees'), dict):
        changed['reproduction_fees'] = _to_sheet(params['reproduction_fees'])
    days = params.get('payment_days')
    if isinstance(days, int) and not isinstance(days, bool) and days > 30:
        changed['payment_days'] = 30
    return changed


def _downgraded(params):
    changed = dict(params)
    if isinstance(params.get('reproduction_fees'), dict):
        changed['reproduction_fees'] = _to_flat(params['reproduction_fees'])
    return changed


def _rewrite(change):
    conn = op.get_bind()
    configs = sa.table('workflow_configs', sa.column('workflow', sa.String), sa.column('params', sa.JSON))
    for name, params in conn.execute(
        sa.select(configs.c.workflow, configs.c.params).where(configs.c.workflow == WORKFLOW)
    ):
        if isinstance(params, dict) and change(params) != params:
            conn.execute(configs.update().where(configs.c.workflow == name).values(params=change(params)))
    cases = sa.table(
        'cases', sa.column('id', sa.Integer), sa.column('workflow', sa.String), sa.column('params', sa.JSON)
    )
    for case_id, params in conn.execute(sa.select(cases.c.id, cases.c.params).where(cases.c.workflow == WORKFLOW)):
        if isinstance(params, dict) and change(params) != params:
            conn.execute(cases.update().where(cases.c.id == case_id).values(params=change(params)))


def upgrade():
    _rewrite(_upgraded)


def downgrade():
    _rewrite(_downgraded)
