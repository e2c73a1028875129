"""The year a list of yearly records shows: one year at a time, the one asked for or the latest with records."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from forms import YearFilter


def year_shown(args: MultiDict[str, str], latest: Callable[[], int | None]) -> tuple[YearFilter, int | None, int]:
    """The filter read from ``args`` (``?ejercicio=``), the year to show and the HTTP status: the year asked for,
    or ``latest()`` (``None`` when there are no records yet); a filter that is not a year is said so (a flashed,
    translated message and 400) and the latest year shown."""
    form = YearFilter(args)
    status = 200
    year = form.ejercicio.data if form.validate() else None
    if form.errors:
        status = 400
        flash(_("Revise el filtro: el ejercicio debe ser un año entre 2000 y 2200."), "error")
    if year is None:
        year = latest()
        if status == 200:
            form.ejercicio.data = year
    return form, year, status
