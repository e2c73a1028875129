"""Public pages about cases, no login.

``/consulta``: anyone follows a filed case by its folio: the procedure, its state and its legal term
(as a date and business days left, suspended, or lapsed with the silence rule applied). Nothing personal.

An unknown folio and a draft not yet filed get the same answer. ``/sorteos``: the commitments and reveals of
the seeds of the draws the system makes on cases."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.services.case_pages import public_status
from app.services.seeds import latest_seed_year, public_seeds
from app.web.access import public
from app.web.years import year_shown
from forms import YearFilter
from forms.verification import StatusLookupForm

bp = Blueprint("lookup", __name__)


@bp.get("/consulta")
@public
def status() -> str | tuple[str, int]:
    """The folio form and, for a filed case, where it stands."""
    form = StatusLookupForm(request.args)
    if not request.args:
        return render_template("lookup/status.html", form=form, status=None, missing=False)
    if not form.validate():
        return render_template("lookup/status.html", form=form, status=None, missing=False), 400
    found = public_status(form.folio.data or "")
    if found is None:
        return render_template("lookup/status.html", form=form, status=None, missing=True), 404
    return render_template("lookup/status.html", form=form, status=found, missing=False)


@bp.get("/sorteos")
@public
def draws() -> tuple[str, int]:
    """The committed seed of every draw the system makes on cases (e.g. the inspection of completed works):
    its SHA-256 while its quarter runs, the seed itself once the quarter is over, and how to recompute. One
    year at a time (``?ejercicio=``; the latest with a seed by default); a filter that is not a year is a 400
    that says so, with the latest year shown."""
    form = YearFilter(request.args)
    year, status = year_shown(form, latest_seed_year)
    seeds = public_seeds(year) if year is not None else []
    return render_template("lookup/draws.html", seeds=seeds, filters=form, year=year), status
