"""What the access-to-information PDFs say: the response to the requester and the committee's resolution
(``pdf_templates/access_response.html`` and ``committee_resolution.html``). Plain dicts for the renderer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import local_today
from app.certificates.formatting import long_date, plain_decimal
from app.models import Case, Department, User
from app.procedures.access_request.models import (
    AccessRequest,
    AreaTurn,
    CommitteeItem,
    CommitteeSession,
    CommitteeVote,
)
from app.services import document_context
from app.services.deadlines import calendar
from workflows.access_request import DEFAULT_PARAMS, basis_in_parentheses, cost_rows, legal_basis

FORMATS = {
    "electronic": "Electrónica, a través del sistema",
    "simple_copies": "Copias simples",
    "certified_copies": "Copias certificadas",
    "usb": "Dispositivo USB",
    "consulta_directa": "Consulta directa",
}
KINDS = {
    "available": "disponible",
    "reserved": "reservada",
    "confidential": "confidencial",
    "inexistent": "inexistente",
}
DECISIONS = {
    "confirm": "Confirma",
    "modify": "Modifica",
    "revoke": "Revoca",
    "approve": "Aprueba la ampliación del plazo",
    "reject": "Niega la ampliación del plazo",
}
VOTES = {"favor": "A favor", "against": "En contra", "abstain": "Abstención"}
MEMBER_TITLE = "Integrante del Comité de Transparencia"
MATTERS = {
    "classification": "Clasificación de la información",
    "inexistence": "Declaración de inexistencia",
    "extension": "Ampliación del plazo de respuesta",
}


def _answers(case: Case) -> dict[str, Mapping[str, Any]]:
    answers = case.data.get("answers")
    return {str(k): v for k, v in answers.items() if isinstance(v, Mapping)} if isinstance(answers, Mapping) else {}


def _sense(case: Case) -> str:
    kinds = {a.get("kind") for a in _answers(case).values()}
    partial = any(a.get("partial") for a in _answers(case).values())
    decision = case.data.get("committee_decision")
    if kinds <= {"available"}:
        return "Información pública entregada"
    if decision == "revoke":
        return "Información entregada: el Comité revocó la clasificación o la inexistencia"
    if "inexistent" in kinds and kinds <= {"inexistent", "available"}:
        return "Inexistencia de la información confirmada por el Comité de Transparencia"
    if partial:
        return "Versión pública: información clasificada parcialmente, confirmada por el Comité de Transparencia"
    return "Información clasificada, confirmada por el Comité de Transparencia"


def _department_names(session: Session, codes: list[str]) -> str:
    names = dict(session.execute(select(Department.code, Department.name).where(Department.code.in_(codes))).all())
    return ", ".join(str(names.get(code, code)) for code in codes)


DEFAULT_APPEAL_DAYS = int(DEFAULT_PARAMS["appeal_days"])


def _appeal_text(session: Session, params: Mapping[str, Any], act: str) -> str:
    """What the requester can do against ``act`` (this response, this notice), as the law asks it be told: the
    recurso de revisión before the guarantor body, its term in business days and its last day counted from
    today's notification on the business-day calendar, and its legal basis (the ``legal_bases`` setting's act
    ``appeal``; LGTAIP 2015 arts. 142 and 143 by default)."""
    days = int(params.get("appeal_days") or DEFAULT_APPEAL_DAYS)
    last = calendar(session).add_business_days(local_today(), days)
    return (
        f"Si no está conforme con {act} puede interponer el recurso de revisión ante el organismo garante dentro "
        f"de los {days} días hábiles siguientes a su notificación, a más tardar el {long_date(last)} "
        f"({legal_basis(params, 'appeal')})."
    )


def access_response(session: Session, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields, extra) of the response delivered to the requester."""
    request = session.get(AccessRequest, case.id)
    received = request.received_on if request is not None else case.created_at.date()
    areas = list(case.data.get("turned_to") or [])
    params = case.params or {}
    late = bool(case.data.get("response_overdue_on"))
    fields = {
        "solicitante": request.pseudonym if request is not None else "",
        "fecha_solicitud": received.isoformat(),
        "informacion_solicitada": str(case.data.get("information_requested") or ""),
        "sentido_respuesta": _sense(case),
        "areas": _department_names(session, areas),
        "modalidad_entrega": FORMATS.get(str(case.data.get("delivery_format")), str(case.data.get("delivery_format"))),
        "costo": plain_decimal(case.data.get("reproduction_cost") or "0"),
    }
    respuesta = [str(case.data.get("response_summary") or "")]
    if late:
        respuesta.append("La respuesta se emitió fuera del plazo legal: la entrega no tiene costo.")
    consultation = ""
    if case.data.get("consultation_at") and case.data.get("consultation_place"):
        when = datetime.fromisoformat(str(case.data["consultation_at"]))
        consultation = (
            f"El {long_date(when.date())} a las {when:%H:%M} horas, en {case.data['consultation_place']} "
            f"({basis_in_parentheses(legal_basis(params, 'consultation'))}). La consulta no tiene costo."
        )
    extra = {
        "respuesta": respuesta,
        "hoja_costos": [
            {
                "concepto": r["concept"],
                "cantidad": r["quantity"],
                "cuota": r["unit_fee"],
                "importe": r["amount"],
                "fundamento": r["legal_basis"],
            }
            for r in cost_rows(case.data)
        ],
        "consulta_directa": consultation,
        "medios_impugnacion": _appeal_text(session, params, "esta respuesta"),
    }
    return fields, extra


def committee_resolution(session: Session, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields, extra) of the committee's resolution on the item named by the case's ``committee_item``."""
    item = session.get(CommitteeItem, int(case.data.get("committee_item") or 0))
    meeting = session.get(CommitteeSession, item.session_id) if item is not None else None
    if item is None or meeting is None or item.decision is None:
        raise LookupError("the committee item of this resolution is missing or undecided")
    request = session.get(AccessRequest, case.id)
    votes = session.execute(
        select(User.display_name, CommitteeVote.vote)
        .join(User, User.id == CommitteeVote.member_id)
        .where(CommitteeVote.item_id == item.id)
        .order_by(User.display_name, User.id)
    ).all()
    count = {v: sum(1 for _name, vote in votes if vote == v) for v in VOTES}
    params = case.params or {}
    fields = {
        "numero_resolucion": f"CT/{meeting.held_on.year}/{item.id:04d}",
        "sesion": f"Sesión {meeting.number}",
        "fecha_sesion": meeting.held_on.isoformat(),
        "asunto": f"{MATTERS[item.matter.value]} — solicitud {case.folio}",
        "sentido": DECISIONS[item.decision.value],
        "votacion": (
            f"{len(votes)} de {int(params.get('committee_members', 3))} integrantes presentes "
            f"(quórum: {int(params.get('committee_quorum', 2))}); {count['favor']} a favor, "
            f"{count['against']} en contra, {count['abstain']} abstenciones"
        ),
    }
    antecedentes = []
    if request is not None:
        antecedentes.append(
            f"El {long_date(request.received_on)} se recibió la solicitud de acceso con folio {case.folio}."
        )
    turns = session.scalars(select(AreaTurn).where(AreaTurn.case_id == case.id).order_by(AreaTurn.id)).all()
    for turn in turns:
        if turn.answer_kind is None:
            continue
        area = _department_names(session, [turn.department_code])
        text = f"El área {area} respondió: información {KINDS[turn.answer_kind.value]}"
        if turn.partial:
            text += " en parte"
        if turn.legal_basis:
            text += f", con fundamento en {turn.legal_basis}"
        if turn.reservation_years:
            text += f", por un periodo de reserva de {turn.reservation_years} años"
        antecedentes.append(text + ".")
    extra = {
        "antecedentes": antecedentes,
        "considerandos": [t.harm_test for t in turns if t.harm_test],
        "resolutivos": [str(item.resolution_text or "")],
        "integrantes": [{"nombre": name, "cargo": MEMBER_TITLE, "voto": VOTES[vote]} for name, vote in votes],
    }
    return fields, extra


def incompetence_notice(session: Session, case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields, extra) of the notice of incompetence: its fundamento y motivación (the unit's reasons), the
    competent body the requester is pointed to, and the appeal term."""
    request = session.get(AccessRequest, case.id)
    received = request.received_on if request is not None else case.created_at.date()
    params = case.params or {}
    fields = {
        "solicitante": request.pseudonym if request is not None else "",
        "fecha_solicitud": received.isoformat(),
        "informacion_solicitada": str(case.data.get("information_requested") or ""),
        "sujeto_obligado_competente": str(case.data.get("competent_body") or ""),
    }
    extra = {
        "motivacion": [p for p in str(case.data.get("incompetence_reasons") or "").splitlines() if p.strip()],
        "fundamento": legal_basis(params, "incompetence"),
        "medios_impugnacion": _appeal_text(session, params, "esta notificación"),
    }
    return fields, extra


def _gathered_incompetence(session: Session, case: Case) -> dict[str, Any]:
    fields, extra = incompetence_notice(session, case)
    return {"fields": fields, "extra": extra}


def _gathered_response(session: Session, case: Case) -> dict[str, Any]:
    fields, extra = access_response(session, case)
    return {"fields": fields, "extra": extra}


def _gathered_resolution(session: Session, case: Case) -> dict[str, Any]:
    fields, extra = committee_resolution(session, case)
    return {"fields": fields, "extra": extra}


# The access request's documents are declared in workflows.access_request with this module as their gatherer.
document_context.register("access_response", _gathered_response)
document_context.register("committee_resolution", _gathered_resolution)
document_context.register("incompetence_notice", _gathered_incompetence)
