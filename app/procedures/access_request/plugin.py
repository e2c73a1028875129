"""Access-to-information requests plug their pages and home-page links in here."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.plugins import Link, Plugin
from app.procedures.access_request.services import close_filing_replays
from app.procedures.access_request.views import bp


def closed_filing_replays() -> list[str]:
    """Clear the sealed tracking tokens of filing forms whose window to be sent again has closed."""
    cleared = close_filing_replays()
    return [f"filing forms closed to repeats: {cleared}"] if cleared else []


PLUGIN = Plugin(
    procedure="access_request",
    blueprints=(bp,),
    title=_l("Acceso a la información"),
    links=(
        Link("transparency.file_request", _l("Presentar una solicitud de acceso"), frozenset({"applicant"})),
        Link("transparency.unit_queue", _l("Solicitudes de acceso"), frozenset({"transparency_unit", "auditor"})),
        Link("transparency.area_queue", _l("Turnos del área"), frozenset({"area"})),
        Link(
            "transparency.sessions", _l("Comité de Transparencia"), frozenset({"committee_member", "transparency_unit"})
        ),
        Link("transparency.guarantor_queue", _l("Recursos de revisión"), frozenset({"guarantor"})),
        Link(
            "transparency.lookup",
            _l("Consulta pública por folio"),
            frozenset({"applicant", "transparency_unit", "area", "committee_member", "guarantor", "auditor"}),
        ),
    ),
    public_links=(Link("transparency.file_request", _l("Presentar una solicitud de acceso a la información")),),
    tick=(closed_filing_replays,),
)
