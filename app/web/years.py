"""The year a list of yearly records shows: one year at a time, the one asked for or the latest with records."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_babel import gettext as _

from forms import YearFilter


def year_shown(
    form: YearFilter, latest: Callable[[], int | None], message: str | None = None
) -> tuple[int | None, int]:
    """The year to show and the HTTP status for a filter read from the query (``?ejercicio=``): the year asked
    for, or ``latest()`` (``None`` when there are no records yet), written back into the filter; a filter that is
    not valid is said so (``message`` flashed, translated, and 400) and the latest year shown."""
    status = 200
    year = form.ejercicio.data if form.validate() else None
    if form.errors:
        status = 400
        flash(message or _("Revise el filtro: el ejercicio debe ser un año entre 2000 y 2200."), "error")
    if year is None:
        year = latest()
        if status == 200:
            form.ejercicio.data = year
    return year, status
