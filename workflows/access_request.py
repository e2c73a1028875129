"""Access-to-information requests (solicitudes de acceso a la información).

A requester files a request (a pseudonym and an e-mail suffice); the transparency unit may issue one
prevención or declare the body incompetent, each within its own term, or turn the request to the areas
that may hold the information. Each area answers: available, classified (reserved or confidential, fully
or partially) or inexistent. The transparency committee confirms, modifies or revokes classifications and
declarations of inexistence and decides, once and before the deadline, on an extension. The unit delivers
the response; the requester pays reproduction costs when they apply (nothing when the body answered late)
and may appeal (recurso de revisión) to the guarantor authority, whose resolution the body must comply with.

Every term is a jurisdiction's parameter. The response term is a :class:`~workflows.base.Clock`: it runs
from the business day after receipt through every working state, is interrupted by the prevención (and
counts anew, whole, from the business day after the answer — LGTAIP 2015 art. 128 — or, where the
jurisdiction's ``prevention_effect`` says ``pause``, resumes with the days used kept), is extended once by
the committee, and on lapse flags the request as answered late (delivery becomes free and the appeal term
starts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from workflows.base import (
    N_,
    PAUSE,
    RESTART,
    SYSTEM_ROLE,
    Clock,
    Deadline,
    GuardInput,
    HistoryItem,
    InvalidSetting,
    State,
    Target,
    Transition,
    Workflow,
)
from workflows.payments import payment_reference
from workflows.procedure import (
    NOTHING_DELIVERED,
    Delivered,
    Demo,
    Department,
    Document,
    Field,
    Parameter,
    Payment,
    Presentation,
    Procedure,
    Row,
)

UNIT = "transparency_unit"
AREA = "area"
COMMITTEE = "committee_member"
GUARANTOR = "guarantor"
REQUESTER = "applicant"

WORKING = ("received", "turned", "consolidated", "in_committee")
"""States in which the body still owes the response (the response clock runs in them)."""

ANSWER_KINDS = ("available", "reserved", "confidential", "inexistent")
CLASSIFIED = frozenset({"reserved", "confidential"})
COMMITTEE_DECISIONS = ("confirm", "modify", "revoke")
APPEAL_DECISIONS_CLOSING = ("confirm", "dismiss")
APPEAL_DECISIONS_ORDERING = ("modify", "revoke")
PUBLIC_VERSION = "version_publica"
"""Document kind of the redacted copy delivered when information is partially classified."""
AREA_ORIGINAL = "respuesta_area"
"""Document kind of the information as an area holds it (never delivered while a classification stands)."""
DELIVERED = "delivered_documents"
"""Case field: the ids of the documents the unit chose to deliver with the response."""

DEFAULT_PARAMS: dict[str, Any] = {
    "response_days": 20,
    "extension_days": 10,
    "prevention_issue_days": 5,
    "prevention_answer_days": 10,
    "prevention_effect": RESTART,
    "incompetence_days": 3,
    "public_source_days": 5,
    "payment_days": 30,
    "appeal_days": 15,
    "resolution_days": 40,
    "appeal_prevention_days": 5,
    "pleadings_days": 7,
    "resolution_extension_days": 20,
    "compliance_days": 10,
    "compliance_view_days": 5,
    "committee_members": 3,
    "committee_quorum": 2,
    "delivery_formats": ["electronic", "simple_copies", "certified_copies", "usb", "consulta_directa"],
    "reproduction_fees": {
        "electronic": {"unit": "free", "fee": "0.00"},
        "consulta_directa": {"unit": "free", "fee": "0.00"},
        "simple_copies": {"unit": "simple_page", "fee": "1.00"},
        "certified_copies": {"unit": "certified_page", "fee": "20.00"},
        "usb": {"unit": "medium", "fee": "30.00"},
    },
    "free_pages": 20,
    "shipping_fee": "0.00",
    "legal_bases": {
        "prevention": "Artículo 128 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "incompetence": "Artículo 136 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "appeal": "Artículos 142 y 143 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "resolution": "Artículo 146 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "compliance": "Artículos 196 y 197 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "public_source": "Artículo 130 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "payment": "Artículos 134 y 141 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "extension": "Artículo 132, segundo párrafo, de la Ley General de Transparencia y Acceso a la Información "
        "Pública (DOF 4 de mayo de 2015)",
        "classification": "Artículos 44, fracción II, y 137 de la Ley General de Transparencia y Acceso a la "
        "Información Pública (DOF 4 de mayo de 2015)",
        "consultation": "Artículo 133 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "inexistence": "Artículos 44, fracción II, 138 y 139 de la Ley General de Transparencia y Acceso a la "
        "Información Pública (DOF 4 de mayo de 2015)",
        "admission": "Artículos 146 y 150, fracción I, de la Ley General de Transparencia y Acceso a la Información "
        "Pública (DOF 4 de mayo de 2015)",
        "dismissal": "Artículos 150, fracción I, y 155 de la Ley General de Transparencia y Acceso a la Información "
        "Pública (DOF 4 de mayo de 2015)",
        "appeal_prevention": "Artículos 145 y 155, fracción IV, de la Ley General de Transparencia y Acceso a la "
        "Información Pública (DOF 4 de mayo de 2015)",
        "pleadings": "Artículo 150, fracciones II y III, de la Ley General de Transparencia y Acceso a la Información "
        "Pública (DOF 4 de mayo de 2015)",
        "instruction_closed": "Artículo 150, fracción VII, de la Ley General de Transparencia y Acceso a la "
        "Información Pública (DOF 4 de mayo de 2015)",
        "reproduction_costs": "Artículo 141 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "late_response": "Artículo 134 de la Ley General de Transparencia y Acceso a la Información Pública "
        "(DOF 4 de mayo de 2015)",
        "cost_waiver": "Artículo 141, último párrafo, de la Ley General de Transparencia y Acceso a la Información "
        "Pública (DOF 4 de mayo de 2015)",
    },
    "appeal_grounds": [
        "classification",
        "inexistence",
        "incompetence",
        "incomplete",
        "not_matching",
        "no_response",
        "format",
        "costs",
    ],
}


CONSULTATION = "consulta_directa"
"""The delivery modality in which the requester inspects the documents in person (LGTAIP 2015 art. 133)."""

FEE_UNITS = ("simple_page", "certified_page", "medium", "free")
"""How a modality is charged: per simple page (the first ``free_pages`` free, art. 141), per certified page,
per medium (USB, CD) or not at all (electronic delivery, consulta directa)."""

_CENT = Decimal("0.01")
_MAX_FEE = Decimal("1000000")
_COUNT_LIMIT = 1_000_000
CONCEPTS = {
    "simple_page": "Copia simple (por hoja)",
    "certified_page": "Copia certificada (por hoja)",
    "medium": "Medio de almacenamiento (por pieza)",
    "free": "Entrega sin costo",
}


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _fee(code: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0 or number > _MAX_FEE:
        raise InvalidSetting(
            N_("Costos de reproducción: la cuota de «%(code)s» debe ser un importe en pesos, cero o mayor."),
            {"code": code},
        )
    return number


def parse_fees(value: Any) -> dict[str, dict[str, str]]:
    """Check the fee table of the delivery modalities: modality code → ``{"unit": …, "fee": …}`` where the unit
    is one of :data:`FEE_UNITS` and the fee an amount in pesos ≥ 0 (per page, per medium; 0 when free).

    Raises :class:`~workflows.base.InvalidSetting` (a ``ValueError`` saying why) or ``TypeError`` for a
    malformed table; returns it normalised to two decimals."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidSetting(
            N_("Costos de reproducción: escriba un objeto JSON que asigne a cada modalidad su unidad y su cuota.")
        )
    fees: dict[str, dict[str, str]] = {}
    for code, entry in value.items():
        if not isinstance(code, str) or not code.strip():
            raise InvalidSetting(N_("Costos de reproducción: una modalidad no tiene código."))
        if not isinstance(entry, Mapping) or entry.get("unit") not in FEE_UNITS or set(entry) - {"unit", "fee"}:
            raise InvalidSetting(
                N_(
                    'Costos de reproducción: «%(code)s» debe ser {"unit": …, "fee": …} con la unidad '
                    "simple_page, certified_page, medium o free."
                ),
                {"code": code},
            )
        unit = str(entry["unit"])
        amount = Decimal(0) if unit == "free" else _fee(code, entry.get("fee"))
        fees[code.strip()] = {"unit": unit, "fee": _money(amount)}
    return fees


def fees_from_flat(value: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The fee table of the former shape (modality → one flat amount) in the sheet's shape: a free modality
    stays free; simple and certified copies are charged per page at the default fees (a flat amount was not a
    page's fee); any other modality is charged its former amount per medium."""
    defaults: Mapping[str, Mapping[str, str]] = DEFAULT_PARAMS["reproduction_fees"]
    converted: dict[str, dict[str, str]] = {}
    for code, amount in value.items():
        number = _fee(str(code), amount)
        if code in ("simple_copies", "certified_copies"):
            converted[code] = dict(defaults[code])
        elif number == 0:
            converted[code] = {"unit": "free", "fee": "0.00"}
        else:
            converted[code] = {"unit": "medium", "fee": _money(number)}
    return converted


def parse_payment_days(value: Any) -> int:
    """The requester's term to pay, in business days: 1 to 30 (LGTAIP 2015 art. 134). Raises
    :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 30:
        raise InvalidSetting(N_("El plazo para pagar es de uno a treinta días (art. 134, LGTAIP 2015)."))
    return value


def parse_appeal_prevention_days(value: Any) -> int:
    """The appellant's term to answer the guarantor's prevención, in business days: 1 to 5 (LGTAIP 2015 art. 145).
    Raises :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidSetting(
            N_("El plazo para atender la prevención del recurso es de uno a cinco días (art. 145, LGTAIP 2015).")
        )
    return value


def parse_pleadings_days(value: Any) -> int:
    """The parties' term to plead once the appeal is admitted (to say what suits their right, offer evidence and
    file their alegatos), in business days: 1 to 15 (LGTAIP 2015 art. 150, fr. II: "un plazo máximo de siete
    días"; a state's law may give more). Raises :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 15:
        raise InvalidSetting(
            N_("El plazo de las partes para alegar es de uno a quince días (art. 150, fr. II, LGTAIP 2015: siete).")
        )
    return value


def parse_compliance_view_days(value: Any) -> int:
    """The appellant's term to say what suits their right on the body's compliance report, in business days: 1
    to 15 (LGTAIP 2015 art. 197: "dentro de los cinco días siguientes"; a state's law may give more). Raises
    :class:`~workflows.base.InvalidSetting`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 15:
        raise InvalidSetting(
            N_(
                "El plazo del recurrente para manifestarse sobre el cumplimiento es de uno a quince días "
                "(art. 197, LGTAIP 2015: cinco)."
            )
        )
    return value


LEGAL_BASIS_ACTS = ("prevention", "incompetence", "appeal", "resolution", "compliance")
"""The acts whose legal basis is told to the people they bind (the ``legal_bases`` setting)."""
OPTIONAL_BASIS_ACTS = (
    "public_source",
    "payment",
    "extension",
    "classification",
    "consultation",
    "inexistence",
    "admission",
    "dismissal",
    "appeal_prevention",
    "pleadings",
    "instruction_closed",
    "reproduction_costs",
    "late_response",
    "cost_waiver",
)
"""Acts added later: a ``legal_bases`` setting saved before them may leave them out (the default applies).
``admission`` is cited when the guarantor admits an appeal (2015 arts. 146 and 150, fr. I), ``dismissal`` when it
dismisses one as improper (arts. 150, fr. I, and 155), ``appeal_prevention`` when it asks the appellant to
complete the appeal (arts. 145 and 155, fr. IV), ``pleadings`` when the admitted appeal opens the parties' term
to plead (art. 150, fr. II and III), ``instruction_closed`` when the guarantor closes the instruction (art. 150,
fr. VII), ``reproduction_costs`` by the cost sheet's rows of pages,
media and envío (art. 141), ``late_response`` by the row that makes a late response free (art. 134) and
``cost_waiver`` by the row of a waiver for the requester's circumstances (art. 141, last paragraph)."""


def parse_legal_bases(value: Any) -> dict[str, str]:
    """Check the legal basis cited for each act told to people (act → citation, every act present).

    Raises ``TypeError`` or ``ValueError``; returns the citations with surrounding blanks removed."""
    if not isinstance(value, Mapping):
        raise TypeError("the legal bases map acts to citations")
    bases: dict[str, str] = {}
    for act in LEGAL_BASIS_ACTS:
        text = value.get(act)
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the legal basis of {act!r} is missing")
        bases[act] = " ".join(text.split())
    for act in OPTIONAL_BASIS_ACTS:
        text = value.get(act)
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise ValueError(f"the legal basis of {act!r} is empty")
        if text is not None:
            bases[act] = " ".join(text.split())
    if set(value) - set(LEGAL_BASIS_ACTS) - set(OPTIONAL_BASIS_ACTS):
        raise ValueError("unknown act in the legal bases")
    return bases


def legal_basis(params: Mapping[str, Any], act: str) -> str:
    """The legal basis the jurisdiction cites for ``act`` (the 2015 general law's article by default)."""
    bases = params.get("legal_bases")
    text = bases.get(act) if isinstance(bases, Mapping) else None
    return str(text) if text else str(DEFAULT_PARAMS["legal_bases"][act])


def legal_bases(params: Mapping[str, Any]) -> dict[str, str]:
    """The legal basis the jurisdiction cites for every act (see :func:`legal_basis`)."""
    return {act: legal_basis(params, act) for act in (*LEGAL_BASIS_ACTS, *OPTIONAL_BASIS_ACTS)}


def _lowered(citation: str) -> str:
    for head in ("Artículos ", "Artículo "):
        if citation.startswith(head):
            return head.lower() + citation[len(head) :]
    return citation


def basis_in_sentence(citation: str) -> str:
    """A citation as it follows «Con fundamento en» inside a sentence: one that opens with «Artículo» or
    «Artículos» takes the article and a small letter («el artículo 133 de …», «los artículos 134 y 141 de
    …»); any other reads as written."""
    lowered = _lowered(citation)
    if lowered.startswith("artículos "):
        return "los " + lowered
    if lowered.startswith("artículo "):
        return "el " + lowered
    return citation


def basis_in_parentheses(citation: str) -> str:
    """A citation as it reads between parentheses inside a sentence: a small letter for an opening
    «Artículo(s)», and its closing parenthetical (the gazette that published the law) after a comma instead,
    so that parentheses do not nest («artículo 133 de la Ley …, DOF 4 de mayo de 2015»)."""
    text = _lowered(citation)
    if text.endswith(")") and " (" in text:
        head, _sep, tail = text.rpartition(" (")
        if "(" not in tail and ")" not in tail[:-1]:
            text = f"{head}, {tail[:-1]}"
    return text


def whole_count(value: Any) -> int | None:
    """A page or media count as the unit entered it (``None`` when it is not a whole number ≥ 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value <= _COUNT_LIMIT else None


@dataclass(frozen=True, slots=True)
class CostSheet:
    """What the requester pays to receive the response, row by row (concept, quantity, unit fee, amount,
    legal basis: strings, amounts with two decimals), and the total."""

    rows: tuple[dict[str, str], ...]
    total: str


def _row(concept: str, quantity: int, fee: Decimal, amount: Decimal, basis: str) -> dict[str, str]:
    return {
        "concept": concept,
        "quantity": str(quantity),
        "unit_fee": _money(fee),
        "amount": _money(amount),
        "legal_basis": basis,
    }


def cost_sheet(data: Mapping[str, Any], params: Mapping[str, Any]) -> CostSheet:
    """The cost sheet of the response (pure). The chosen modality's fee applies per page (the first
    ``free_pages`` simple pages free — LGTAIP 2015 art. 141), per medium or not at all; envío is added when the
    unit sends the copies and the jurisdiction charges it; a response given late costs nothing (art. 134),
    and the unit may waive the cost for the requester's socio-economic circumstances (art. 141, last
    paragraph), stating why. Counts that are not whole numbers count as zero (the guard refuses them). Each
    row cites what the jurisdiction's ``legal_bases`` say for its act: ``reproduction_costs`` for pages, media
    and envío, ``late_response`` and ``cost_waiver`` for the rows that take the cost back to nothing."""
    try:
        fees = parse_fees(params.get("reproduction_fees") or {})
    except (TypeError, ValueError):
        fees = {}
    entry = fees.get(str(data.get("delivery_format")), {"unit": "free", "fee": "0.00"})
    unit, fee = entry["unit"], Decimal(entry["fee"])
    pages = whole_count(data.get("page_count")) or 0
    media = whole_count(data.get("media_count")) or 0
    costs = legal_basis(params, "reproduction_costs")
    late = legal_basis(params, "late_response")
    waiver = legal_basis(params, "cost_waiver")
    rows: list[dict[str, str]] = []
    if unit == "simple_page" and pages:
        limit = max(int(params.get("free_pages", 20) or 0), 0)
        free = min(pages, limit)
        if free:
            rows.append(_row(f"Hojas simples sin costo (hasta {limit})", free, fee, Decimal(0), costs))
        if pages > free:
            rows.append(_row(CONCEPTS[unit], pages - free, fee, fee * (pages - free), costs))
    elif unit == "certified_page" and pages:
        rows.append(_row(CONCEPTS[unit], pages, fee, fee * pages, costs))
    elif unit == "medium" and media:
        rows.append(_row(CONCEPTS[unit], media, fee, fee * media, costs))
    shipping = Decimal(str(params.get("shipping_fee") or "0"))
    if data.get("shipped") is True and unit != "free" and shipping > 0:
        rows.append(_row("Envío", 1, shipping, shipping, costs))
    subtotal = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
    if subtotal > 0 and data.get("response_overdue_on"):
        rows.append(_row("Respuesta fuera de plazo: la entrega no tiene costo", 1, -subtotal, -subtotal, late))
        subtotal = Decimal(0)
    elif subtotal > 0 and data.get("cost_waived") is True:
        reason = " ".join(str(data.get("cost_waiver_reason") or "").split())
        concept = "Exención por las circunstancias socioeconómicas del solicitante: " + reason
        rows.append(_row(concept, 1, -subtotal, -subtotal, waiver))
        subtotal = Decimal(0)
    return CostSheet(tuple(rows), _money(subtotal))


def reproduction_cost(data: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """What the requester pays to receive the response: the total of its :func:`cost_sheet`."""
    return cost_sheet(data, params).total


def cost_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The cost sheet recorded on the case when the response was delivered (empty before or when none)."""
    rows = data.get("cost_sheet")
    if not isinstance(rows, list | tuple):
        return []
    return [{str(k): str(v) for k, v in r.items()} for r in rows if isinstance(r, Mapping)]


def payment_pending(data: Mapping[str, Any]) -> bool:
    """Whether the requester owes reproduction costs the treasury has not confirmed (the information waits for
    the payment). A response delivered before cost sheets and payment orders existed (no ``cost_sheet``
    recorded) keeps the rule it was delivered under: its documents were delivered with it."""
    try:
        owed = Decimal(str(data.get("reproduction_cost") or "0")) > 0
    except InvalidOperation:
        return False
    return owed and "cost_sheet" in data and not data.get("payment_reference")


def _answers(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    answers = data.get("answers")
    if not isinstance(answers, Mapping):
        return {}
    return {str(k): v for k, v in answers.items() if isinstance(v, Mapping)}


def needs_committee(data: Mapping[str, Any]) -> bool:
    """Whether an area classified information or declared it inexistent (the committee must rule)."""
    return any(a.get("kind") in CLASSIFIED or a.get("kind") == "inexistent" for a in _answers(data).values())


def classified_in_force(data: Mapping[str, Any]) -> bool:
    """Whether an area classified information (reserved or confidential, fully or partly) and the committee
    did not revoke that classification: then only a versión pública of it may reach the requester."""
    if data.get("committee_decision") == "revoke":
        return False
    return any(a.get("kind") in CLASSIFIED for a in _answers(data).values())


def deliverable_kinds(data: Mapping[str, Any]) -> frozenset[str]:
    """The kinds of area document the unit may deliver: only the versión pública while a classification
    stands, the area's own document too otherwise (LGTAIP 2015 arts. 111 and 137)."""
    if classified_in_force(data):
        return frozenset({PUBLIC_VERSION})
    return frozenset({AREA_ORIGINAL, PUBLIC_VERSION})


def delivered_ids(data: Mapping[str, Any]) -> tuple[int, ...]:
    """The ids of the documents the unit chose to deliver (nothing else goes to the requester)."""
    value = data.get(DELIVERED)
    if not isinstance(value, list | tuple):
        return ()
    return tuple(i for i in value if isinstance(i, int) and not isinstance(i, bool))


def delivered_now(data: Mapping[str, Any]) -> Delivered:
    """What of the documents the unit chose to deliver the requester may read now, on any path (tracking page,
    download by id, the case page of an account): nothing while reproduction costs are owed (LGTAIP 2015
    art. 141: paid before delivery), and of the rest only the kinds that may go out (:func:`deliverable_kinds`:
    the versión pública alone while a classification stands, whatever was recorded)."""
    ids = delivered_ids(data)
    if not ids or payment_pending(data):
        return NOTHING_DELIVERED
    return Delivered(frozenset(ids), deliverable_kinds(data))


# -- guards ---------------------------------------------------------------------------------------


def delivery_format_offered(inp: GuardInput) -> str | None:
    """The chosen delivery format is one the jurisdiction offers."""
    if inp.data.get("delivery_format") not in list(inp.params.get("delivery_formats") or ()):
        return N_("Elija una modalidad de entrega de las que se ofrecen.")
    return None


def prevention_in_term(inp: GuardInput) -> str | None:
    """A prevención is issued once at most and within its term from receipt."""
    if inp.count("prevent") > 0:
        return N_("Solo puede formularse una prevención por solicitud.")
    if inp.data.get("prevention_window_closed_on"):
        return N_("El plazo para formular la prevención ya venció.")
    return None


def incompetence_in_term(inp: GuardInput) -> str | None:
    """Incompetence is declared within its term from receipt (the prevención interrupts it)."""
    if inp.data.get("incompetence_window_closed_on"):
        return N_("El plazo para declarar la incompetencia ya venció.")
    return None


def public_source_in_term(inp: GuardInput) -> str | None:
    """The unit points to information already public within its own shorter term from receipt (LGTAIP 2015
    art. 130), and says where and how to consult it."""
    if inp.data.get("public_source_window_closed_on"):
        return N_("El plazo para indicar la fuente de la información pública ya venció.")
    return None


def public_source_given(inp: GuardInput) -> str | None:
    """The unit says where and how to consult the information already public."""
    if not str(inp.data.get("public_source") or "").strip():
        return N_("Indique la fuente, el lugar y la forma de consultar la información.")
    return None


def no_inexistence(inp: GuardInput) -> str | None:
    """Incompetence and inexistence never go together."""
    if any(a.get("kind") == "inexistent" for a in _answers(inp.data).values()):
        return N_("Un área ya declaró la inexistencia: no puede declararse además la incompetencia.")
    return None


def areas_named(inp: GuardInput) -> str | None:
    """A turn names at least one area, each once."""
    areas = inp.data.get("turned_to")
    if not isinstance(areas, list | tuple) or not areas or not all(isinstance(a, str) and a for a in areas):
        return N_("Turne la solicitud al menos a un área.")
    if len(set(areas)) != len(areas):
        return N_("Un área aparece más de una vez en el turno.")
    return None


def answers_valid(inp: GuardInput) -> str | None:
    """Answers come only from turned areas, with a known kind; classified ones cite their legal basis and,
    for reserved information, the harm test and the reservation period; never inexistence together with
    incompetence."""
    turned = set(inp.data.get("turned_to") or ())
    for area, answer in _answers(inp.data).items():
        if area not in turned:
            return N_("La solicitud no se turnó a esa área.")
        kind = answer.get("kind")
        if kind not in ANSWER_KINDS:
            return N_("Indique si la información está disponible, clasificada o es inexistente.")
        if kind in CLASSIFIED and not str(answer.get("legal_basis") or "").strip():
            return N_("La clasificación debe citar su fundamento legal.")
        if kind == "reserved":
            if not str(answer.get("harm_test") or "").strip():
                return N_("La reserva requiere la prueba de daño.")
            years = answer.get("reservation_years")
            if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 5:
                return N_("El periodo de reserva es de 1 a 5 años.")
        if kind == "inexistent" and inp.data.get("competent_body"):
            return N_("Ya se declaró la incompetencia: no puede declararse además la inexistencia.")
    return None


def all_areas_answered(inp: GuardInput) -> str | None:
    """The unit consolidates only when every turned area has answered."""
    turned = set(inp.data.get("turned_to") or ())
    missing = turned - set(_answers(inp.data))
    if not turned or missing:
        return N_("Faltan respuestas de áreas a las que se turnó la solicitud.")
    return None


def committee_needed(inp: GuardInput) -> str | None:
    """Only classifications and declarations of inexistence go to the committee, and only once."""
    if not needs_committee(inp.data):
        return N_("Ninguna área clasificó la información ni declaró su inexistencia.")
    if inp.data.get("committee_decision"):
        return N_("El comité ya resolvió sobre esta solicitud.")
    return None


COMMITTEE_VOTE = "committee_vote"
"""Case field: the tally of the committee's vote on the matter it resolves now (present, for, against,
abstain); the members and their votes are kept in the procedure's own table and printed in the acta."""
VOTES = ("favor", "against", "abstain")
"""What a member present votes; a member not present casts no vote."""


def _count(tally: Mapping[str, Any], key: str) -> int:
    value = tally.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def quorum_and_majority(inp: GuardInput) -> str | None:
    """The committee resolves only in session with its quorum present (``committee_quorum`` of its
    ``committee_members`` members) and by a majority of the votes cast (LGTAIP 2015 art. 43: a collegiate
    committee of an odd number of members that resolves by majority of votes)."""
    tally = inp.data.get(COMMITTEE_VOTE)
    if not isinstance(tally, Mapping):
        return N_("Registre a los integrantes presentes y el voto de cada uno.")
    present = _count(tally, "present")
    members = int(inp.params.get("committee_members") or 0)
    quorum = int(inp.params.get("committee_quorum") or 0)
    if members and present > members:
        return N_("Hay más integrantes presentes que integrantes del Comité.")
    if present < quorum:
        return N_("Sin quórum: el Comité no puede resolver con los integrantes presentes.")
    if _count(tally, "favor") + _count(tally, "against") + _count(tally, "abstain") != present:
        return N_("Cada integrante presente debe emitir su voto.")
    if _count(tally, "favor") <= _count(tally, "against"):
        return N_("La resolución no obtuvo la mayoría de los votos.")
    return None


def committee_decision_valid(inp: GuardInput) -> str | None:
    """The committee confirms, modifies or revokes, with its resolution text."""
    if inp.data.get("committee_decision") not in COMMITTEE_DECISIONS:
        return N_("El comité confirma, modifica o revoca.")
    if not str(inp.data.get("committee_resolution") or "").strip():
        return N_("Escriba el texto de la resolución del comité.")
    return None


def ready_to_deliver(inp: GuardInput) -> str | None:
    """What the committee must rule on has been ruled on, and partially classified information that was
    not declassified goes out as a versión pública."""
    if needs_committee(inp.data) and not inp.data.get("committee_decision"):
        return N_("El comité debe resolver la clasificación o la inexistencia antes de responder.")
    partial = any(a.get("kind") in CLASSIFIED and a.get("partial") for a in _answers(inp.data).values())
    if partial and inp.data.get("committee_decision") != "revoke" and PUBLIC_VERSION not in inp.documents:
        return N_("Falta la versión pública de la información clasificada parcialmente.")
    return None


def delivery_chosen(inp: GuardInput) -> str | None:
    """The documents delivered are named one by one (ids, each once); naming none is a valid choice."""
    value = inp.data.get(DELIVERED, [])
    if not isinstance(value, list | tuple) or len(delivered_ids(inp.data)) != len(value):
        return N_("Elija uno por uno los documentos que se entregan.")
    if len(set(value)) != len(value):
        return N_("Un documento aparece más de una vez en la entrega.")
    return None


def cost_as_published(inp: GuardInput) -> str | None:
    """The cost sheet and its total are what the published fees give for the counts entered (nothing when
    the body is late); counts are whole numbers; a waiver states its reason; consulta directa has its date,
    time and place."""
    data = inp.data
    for name in ("page_count", "media_count"):
        if data.get(name) not in (None, "") and whole_count(data.get(name)) is None:
            return N_("El número de hojas o de medios debe ser un número entero, cero o mayor.")
    if data.get("cost_waived") is True and not str(data.get("cost_waiver_reason") or "").strip():
        return N_("Indique el motivo de la exención del costo.")
    sheet = cost_sheet(data, inp.params)
    if str(data.get("reproduction_cost")) != sheet.total or cost_rows(data) != list(sheet.rows):
        return N_("El costo de reproducción no corresponde a la tarifa publicada.")
    if data.get("delivery_format") == CONSULTATION and not (
        str(data.get("consultation_at") or "").strip() and str(data.get("consultation_place") or "").strip()
    ):
        return N_("Indique la fecha, la hora y el lugar de la consulta directa.")
    return None


def payment_order_due(inp: GuardInput) -> str | None:
    """A payment order is issued once, and only when the response costs something."""
    if Decimal(str(inp.data.get("reproduction_cost") or "0")) <= 0:
        return N_("La entrega no tiene costo.")
    if inp.count("issue_payment_order") > 0:
        return N_("La orden de pago ya se emitió.")
    return None


def payment_matches_cost(inp: GuardInput) -> str | None:
    """The treasury confirms the amount of the cost sheet, once."""
    try:
        paid = Decimal(str(inp.data.get("payment_amount") or ""))
    except InvalidOperation:
        paid = None
    if paid is None or paid != Decimal(str(inp.data.get("reproduction_cost") or "0")):
        return N_("El importe pagado no coincide con el total de la orden de pago.")
    if inp.count("confirm_payment") > 0:
        return N_("El pago ya se registró.")
    return None


def nothing_to_pay(inp: GuardInput) -> str | None:
    """The request concludes when the appeal term lapses unless reproduction costs are still owed."""
    if payment_pending(inp.data):
        return N_("Los costos de reproducción siguen pendientes de pago.")
    return None


def payment_awaited(inp: GuardInput) -> str | None:
    """When the appeal term lapses with reproduction costs still owed, the request waits for the payment until
    the order's due date (LGTAIP 2015 art. 134: up to thirty days), not the appeal term."""
    if not payment_pending(inp.data):
        return N_("No hay costos de reproducción pendientes de pago.")
    return None


def extension_requestable(inp: GuardInput) -> str | None:
    """An extension is asked for once, before the response term lapses."""
    if inp.count("request_extension") > 0:
        return N_("La ampliación del plazo solo puede solicitarse una vez.")
    if inp.data.get("response_overdue_on"):
        return N_("El plazo de respuesta ya venció: no puede ampliarse.")
    return None


def extension_pending(inp: GuardInput) -> str | None:
    """The committee decides an extension once, only if it was requested, and before the deadline."""
    if inp.count("request_extension") == 0:
        return N_("La unidad no ha solicitado la ampliación del plazo.")
    if inp.count("approve_extension") + inp.count("reject_extension") > 0:
        return N_("El comité ya resolvió la ampliación del plazo.")
    if inp.data.get("response_overdue_on"):
        return N_("El plazo de respuesta ya venció: no puede ampliarse.")
    return None


def grounds_valid(inp: GuardInput) -> str | None:
    """The appeal names at least one of the grounds the jurisdiction lists."""
    grounds = inp.data.get("appeal_grounds")
    allowed = set(inp.params.get("appeal_grounds") or ())
    if not isinstance(grounds, list | tuple) or not grounds or not set(grounds) <= allowed:
        return N_("Elija al menos una de las causas del recurso.")
    return None


def appeal_on_silence(inp: GuardInput) -> str | None:
    """Before a response, an appeal lies only once the response term lapsed, and within its own term."""
    if not inp.data.get("response_overdue_on"):
        return N_("Aún corre el plazo de respuesta: podrá recurrir cuando reciba la respuesta o venza el plazo.")
    if inp.data.get("appeal_window_closed_on"):
        return N_("El plazo para interponer el recurso ya venció.")
    return None


def appeal_closes(inp: GuardInput) -> str | None:
    """A resolution that confirms the response or dismisses the appeal ends the case."""
    if inp.data.get("appeal_decision") not in APPEAL_DECISIONS_CLOSING:
        return N_("El sentido de la resolución no concluye el recurso.")
    return _resolution_text(inp)


def appeal_orders(inp: GuardInput) -> str | None:
    """A resolution that modifies or revokes the response orders the body to comply."""
    if inp.data.get("appeal_decision") not in APPEAL_DECISIONS_ORDERING:
        return N_("El sentido de la resolución no ordena cumplimiento.")
    return _resolution_text(inp)


def _resolution_text(inp: GuardInput) -> str | None:
    if not str(inp.data.get("appeal_resolution") or "").strip():
        return N_("Escriba el texto de la resolución del recurso.")
    return None


def resolution_extendable(inp: GuardInput) -> str | None:
    """The guarantor extends its own term once, before it lapses."""
    if inp.count("extend_resolution") > 0:
        return N_("El plazo para resolver el recurso solo puede ampliarse una vez.")
    if inp.data.get("resolution_overdue_on"):
        return N_("El plazo para resolver el recurso ya venció.")
    return None


def appeal_prevention_available(inp: GuardInput) -> str | None:
    """The guarantor prevents the appellant once only (LGTAIP 2015 art. 145: "por una sola ocasión")."""
    if inp.count("prevent_appeal") > 0:
        return N_("El órgano garante ya previno al recurrente una vez; no puede prevenirlo de nuevo.")
    return None


UNIT_PLEADS = "file_unit_pleadings"
"""The transparency unit's pleadings in an admitted appeal (LGTAIP 2015 art. 150, fr. II and III)."""
REQUESTER_PLEADS = "file_requester_pleadings"
"""The appellant's pleadings in an admitted appeal (LGTAIP 2015 art. 150, fr. II and III)."""


def _pleading_open(inp: GuardInput, trigger: str) -> str | None:
    if inp.data.get("pleadings_closed_on"):
        return N_("El plazo para ofrecer pruebas y formular alegatos ya venció.")
    if inp.count(trigger) > 0:
        return N_("Esta parte ya presentó sus alegatos: se presentan una sola vez.")
    return None


def unit_pleadings_open(inp: GuardInput) -> str | None:
    """The unit pleads once, while the parties' term runs (LGTAIP 2015 art. 150, fr. II and III)."""
    return _pleading_open(inp, UNIT_PLEADS)


def requester_pleadings_open(inp: GuardInput) -> str | None:
    """The appellant pleads once, while the parties' term runs (LGTAIP 2015 art. 150, fr. II and III)."""
    return _pleading_open(inp, REQUESTER_PLEADS)


def pleadings_over(inp: GuardInput) -> str | None:
    """The guarantor closes the instruction once the parties' term has run, or earlier when both parties have
    pleaded (LGTAIP 2015 art. 150, fr. VII: "concluido el plazo señalado en la fracción II")."""
    if inp.data.get("pleadings_closed_on"):
        return None
    if inp.count(UNIT_PLEADS) > 0 and inp.count(REQUESTER_PLEADS) > 0:
        return None
    return N_("Aún corre el plazo de las partes para alegar y no ambas han presentado sus alegatos.")


REPORT_COMPLIANCE = "report_compliance"
"""The body's report that it complied with the guarantor's resolution (LGTAIP 2015 arts. 196 and 197)."""
COMPLIANCE_REMARKS = "file_compliance_remarks"
"""The appellant's remarks on the body's compliance report (LGTAIP 2015 art. 197: the guarantor gives the appellant
a view of the report, who may say, with its specific causes, that the compliance does not match the resolution)."""
COMPLIANCE_VIEW_LAPSED = "compliance_view_lapsed"
"""The lapse of the appellant's term to make remarks on the compliance report (the view, art. 197)."""


def compliance_view_after_report(history: Sequence[HistoryItem]) -> frozenset[str]:
    """Of the appellant's remarks and the lapse of its term, those fired since the latest compliance report: each
    report (the first, or one made again after the guarantor required compliance) opens a view of its own."""
    seen: set[str] = set()
    for item in reversed(history):
        if item.trigger == REPORT_COMPLIANCE:
            break
        if item.trigger in {COMPLIANCE_REMARKS, COMPLIANCE_VIEW_LAPSED}:
            seen.add(item.trigger)
    return frozenset(seen)


def compliance_remarks_open(inp: GuardInput) -> str | None:
    """The appellant makes remarks on a compliance report once, while the term of its view runs (LGTAIP 2015
    art. 197)."""
    since = compliance_view_after_report(inp.history)
    if COMPLIANCE_VIEW_LAPSED in since:
        return N_("El plazo para manifestarse sobre el informe de cumplimiento ya venció.")
    if COMPLIANCE_REMARKS in since:
        return N_("Ya se manifestó sobre este informe de cumplimiento: se hace una sola vez.")
    return None


def compliance_view_over(inp: GuardInput) -> str | None:
    """The guarantor rules on the compliance report once the appellant has made remarks on it or the term of the
    view has run (LGTAIP 2015 arts. 197 and 198: it rules on every cause the appellant gives)."""
    if compliance_view_after_report(inp.history):
        return None
    return N_(
        "Aún corre el plazo del recurrente para manifestarse sobre el informe de cumplimiento (art. 197 de la "
        "LGTAIP): el órgano garante se pronuncia después."
    )


GUARDS = {
    "nothing_to_pay": nothing_to_pay,
    "payment_awaited": payment_awaited,
    "prevention_in_term": prevention_in_term,
    "incompetence_in_term": incompetence_in_term,
    "no_inexistence": no_inexistence,
    "public_source_in_term": public_source_in_term,
    "public_source_given": public_source_given,
    "areas_named": areas_named,
    "answers_valid": answers_valid,
    "all_areas_answered": all_areas_answered,
    "committee_needed": committee_needed,
    "committee_decision_valid": committee_decision_valid,
    "quorum_and_majority": quorum_and_majority,
    "ready_to_deliver": ready_to_deliver,
    "cost_as_published": cost_as_published,
    "delivery_chosen": delivery_chosen,
    "payment_order_due": payment_order_due,
    "payment_matches_cost": payment_matches_cost,
    "extension_requestable": extension_requestable,
    "extension_pending": extension_pending,
    "grounds_valid": grounds_valid,
    "appeal_on_silence": appeal_on_silence,
    "appeal_closes": appeal_closes,
    "appeal_orders": appeal_orders,
    "resolution_extendable": resolution_extendable,
    "appeal_prevention_available": appeal_prevention_available,
    "unit_pleadings_open": unit_pleadings_open,
    "requester_pleadings_open": requester_pleadings_open,
    "pleadings_over": pleadings_over,
    "compliance_remarks_open": compliance_remarks_open,
    "compliance_view_over": compliance_view_over,
}

_SYSTEM = frozenset({SYSTEM_ROLE})
_UNIT = frozenset({UNIT})
_COMMITTEE = frozenset({COMMITTEE})
_GUARANTOR = frozenset({GUARANTOR})
_REQUESTER = frozenset({REQUESTER})
_TREASURY = frozenset({"treasury"})
PAYMENT_ORDER = "reproduction_payment_order"
"""Document kind of the payment order of reproduction costs."""
PAYMENT_FIELDS = ("payment_reference", "payment_amount", "payment_paid_on", "payment_operation")
"""What the treasury's confirmation records: the order's reference, the amount paid, the day and the operation."""
COST_FIELDS = (
    "cost_sheet",
    "page_count",
    "media_count",
    "shipped",
    "cost_waived",
    "cost_waiver_reason",
    "consultation_at",
    "consultation_place",
)
"""What the unit enters with the response for its cost sheet, and the appointment of a consulta directa."""
_EXTENDABLE = ("turned", "consolidated", "in_committee")


def _lapse(
    trigger: str, sources: tuple[str, ...], field: str, description: str, notify: tuple[str, ...] = ()
) -> Transition:
    return Transition(trigger, sources, sources[0], _SYSTEM, description, fields=(field,), notify=notify)


def _self_loops(
    trigger: str, sources: tuple[str, ...], roles: frozenset[str], description: str, **kwargs: Any
) -> tuple[Transition, ...]:
    return tuple(Transition(trigger, (s,), s, roles, description, **kwargs) for s in sources)


def _lapses(
    trigger: str, sources: tuple[str, ...], field: str, description: str, notify: tuple[str, ...] = ()
) -> tuple[Transition, ...]:
    return tuple(_lapse(trigger, (s,), field, description, notify) for s in sources)


def _confirm_payment(source: str, dest: str) -> Transition:
    """The treasury's confirmation of the order from ``source``: the information goes out (``dest``)."""
    return Transition(
        "confirm_payment",
        (source,),
        dest,
        _TREASURY,
        N_("La Tesorería confirma el pago de la orden de pago; la información se entrega"),
        fields=PAYMENT_FIELDS,
        required_fields=PAYMENT_FIELDS,
        guards=("payment_matches_cost",),
        notify=("applicant",),
        dedicated=True,  # app.services.payments: at the cashier, from the command line or the bank's file
    )


STATES = (
    State("received", N_("Recibida: la Unidad de Transparencia la analiza")),
    State(
        "prevention",
        N_("Prevención: el solicitante debe aclarar o completar su solicitud"),
        deadline=Deadline(
            "prevention_answer_days", "prevention_lapsed", N_("Plazo del solicitante para atender la prevención")
        ),
    ),
    State("turned", N_("Turnada a las áreas que pueden tener la información")),
    State("consolidated", N_("Respuestas de las áreas integradas por la Unidad")),
    State("in_committee", N_("En el Comité de Transparencia")),
    State(
        "answered",
        N_("Respondida: corre el plazo para interponer el recurso de revisión"),
        deadline=Deadline("appeal_days", "conclude", N_("Plazo para interponer el recurso de revisión")),
    ),
    State(
        "incompetent",
        N_("Incompetencia notificada: se orientó al sujeto obligado competente"),
        deadline=Deadline("appeal_days", "conclude", N_("Plazo para interponer el recurso de revisión")),
    ),
    State(
        "awaiting_payment",
        N_("Venció el plazo para recurrir: la información espera el pago de los costos de reproducción"),
        deadline=Deadline(
            "payment_days",
            "lapse_payment",
            N_("Plazo del solicitante para pagar los costos de reproducción"),
            due_field="payment_due_on",
        ),
    ),
    State("appealed", N_("Recurso de revisión ante el órgano garante")),
    State(
        "compliance",
        N_("Cumplimiento de la resolución del órgano garante"),
        target=Target("compliance_days", N_("Plazo del sujeto obligado para cumplir la resolución")),
    ),
    State("compliance_review", N_("El órgano garante revisa el cumplimiento")),
    State("not_filed", N_("Tenida por no presentada (prevención no atendida)"), terminal=True),
    State("concluded", N_("Concluida"), terminal=True),
)

TRANSITIONS = (
    Transition(
        "prevent",
        ("received",),
        "prevention",
        _UNIT,
        N_("Formular la prevención"),
        fields=("prevention_text",),
        guards=("prevention_in_term",),
        comment_required=True,
        dedicated=True,  # the service mails the requester its text, legal basis and term
    ),
    Transition(
        "answer_prevention",
        ("prevention",),
        "received",
        _REQUESTER,
        N_("Atender la prevención"),
        owner_only=True,
        fields=("clarification",),
        required_fields=("clarification",),
        dedicated=True,  # answered on the tracking page, whose form collects the clarification
    ),
    Transition(
        "prevention_lapsed",
        ("prevention",),
        "not_filed",
        _SYSTEM,
        N_("Vence la prevención sin respuesta"),
        notify=("applicant",),
    ),
    Transition(
        "declare_incompetent",
        ("received", "turned"),
        "incompetent",
        _UNIT,
        N_("Declarar la incompetencia"),
        fields=("competent_body", "incompetence_reasons"),
        required_fields=("competent_body",),
        guards=("incompetence_in_term", "no_inexistence"),
        comment_required=True,
        issues="incompetence_notice",
        dedicated=True,  # the service mails the requester the reasons, the competent body and the legal basis
    ),
    Transition(
        "point_to_public_source",
        ("received",),
        "answered",
        _UNIT,
        N_("Indicar dónde consultar la información ya pública"),
        fields=("public_source",),
        required_fields=("public_source",),
        guards=("public_source_in_term", "public_source_given"),
        dedicated=True,  # the service mails the requester the source, the legal basis and the appeal term
    ),
    Transition(
        "turn",
        ("received",),
        "turned",
        _UNIT,
        N_("Turnar a las áreas"),
        fields=("turned_to",),
        required_fields=("turned_to",),
        guards=("areas_named",),
        dedicated=True,  # writes the turn rows
    ),
    *_self_loops(
        "add_turn",
        ("turned",),
        _UNIT,
        N_("Turnar además a otra área"),
        fields=("turned_to",),
        required_fields=("turned_to",),
        guards=("areas_named",),
        dedicated=True,  # writes the new turn row
    ),
    *_self_loops(
        "withdraw_turn",
        ("turned",),
        _UNIT,
        N_("Retirar el turno de un área"),
        fields=("turned_to",),
        required_fields=("turned_to",),
        guards=("areas_named", "answers_valid"),
        comment_required=True,
        dedicated=True,  # removes the turn row; an area that answered keeps its turn
    ),
    *_self_loops(
        "answer_turn",
        ("turned",),
        frozenset({AREA}),
        N_("Responder el turno del área"),
        fields=("answers",),
        guards=("answers_valid",),
        dedicated=True,  # the service checks that an area answers only its own turn
    ),
    Transition(
        "consolidate",
        ("turned",),
        "consolidated",
        _UNIT,
        N_("Integrar las respuestas de las áreas"),
        guards=("all_areas_answered", "answers_valid"),
    ),
    Transition(
        "to_committee",
        ("consolidated",),
        "in_committee",
        _UNIT,
        N_("Someter al Comité de Transparencia"),
        guards=("committee_needed",),
        dedicated=True,  # puts the request on a session's agenda
    ),
    Transition(
        "committee_resolve",
        ("in_committee",),
        "consolidated",
        _COMMITTEE,
        N_("Resolver la clasificación o inexistencia"),
        fields=("committee_decision", "committee_resolution", "committee_item", COMMITTEE_VOTE),
        required_fields=("committee_item",),
        guards=("committee_decision_valid", "quorum_and_majority"),
        issues="committee_resolution",
        dedicated=True,  # decided on an agenda item
    ),
    *_self_loops(
        "request_extension",
        _EXTENDABLE,
        _UNIT,
        N_("Solicitar la ampliación del plazo"),
        guards=("extension_requestable",),
        comment_required=True,
        dedicated=True,  # puts the extension on a session's agenda
    ),
    *_self_loops(
        "approve_extension",
        _EXTENDABLE,
        _COMMITTEE,
        N_("Aprobar la ampliación del plazo"),
        fields=("committee_item", COMMITTEE_VOTE),
        required_fields=("committee_item",),
        guards=("extension_pending", "quorum_and_majority"),
        issues="committee_resolution",
        dedicated=True,
    ),
    *_self_loops(
        "reject_extension",
        _EXTENDABLE,
        _COMMITTEE,
        N_("Rechazar la ampliación del plazo"),
        fields=("committee_item", COMMITTEE_VOTE),
        required_fields=("committee_item",),
        guards=("extension_pending", "quorum_and_majority"),
        comment_required=True,
        issues="committee_resolution",
        dedicated=True,
    ),
    Transition(
        "deliver",
        ("consolidated",),
        "answered",
        _UNIT,
        N_("Entregar la respuesta"),
        fields=("response_summary", "reproduction_cost", DELIVERED, "payment_due_on", *COST_FIELDS),
        required_fields=("response_summary", "reproduction_cost"),
        guards=("ready_to_deliver", "cost_as_published", "delivery_chosen"),
        issues="access_response",
        dedicated=True,  # the service checks each document chosen and mails the requester the appeal term
    ),
    *_self_loops(
        "issue_payment_order",
        ("answered",),
        _UNIT,
        N_("Emitir la orden de pago de los costos de reproducción"),
        guards=("payment_order_due",),
        issues=PAYMENT_ORDER,
        dedicated=True,  # issued with the response, in the same unit of work
    ),
    _confirm_payment("answered", "answered"),
    Transition(
        "appeal",
        ("answered", "incompetent"),
        "appealed",
        _REQUESTER,
        N_("Interponer el recurso de revisión"),
        owner_only=True,
        fields=("appeal_grounds", "appeal_statement"),
        required_fields=("appeal_grounds",),
        guards=("grounds_valid",),
        dedicated=True,  # filed on the tracking page, whose form collects the grounds
    ),
    Transition(
        "appeal",
        WORKING,
        "appealed",
        _REQUESTER,
        N_("Interponer el recurso de revisión"),
        owner_only=True,
        fields=("appeal_grounds", "appeal_statement"),
        required_fields=("appeal_grounds",),
        guards=("grounds_valid", "appeal_on_silence"),
        dedicated=True,  # filed on the tracking page, whose form collects the grounds
    ),
    Transition(
        "conclude",
        ("answered", "incompetent"),
        "concluded",
        _SYSTEM,
        N_("Vence el plazo del recurso"),
        guards=("nothing_to_pay",),
    ),
    Transition(
        "conclude",
        ("answered",),
        "awaiting_payment",
        _SYSTEM,
        N_("Vence el plazo del recurso; la información espera el pago"),
        guards=("payment_awaited",),
    ),
    _confirm_payment("awaiting_payment", "concluded"),
    Transition(
        "lapse_payment",
        ("awaiting_payment",),
        "concluded",
        _SYSTEM,
        N_("Vence el plazo para pagar los costos de reproducción sin que se paguen: la solicitud concluye"),
        notify=("applicant",),
    ),
    *_self_loops(
        "extend_resolution",
        ("appealed",),
        _GUARANTOR,
        N_("Ampliar el plazo para resolver el recurso"),
        guards=("resolution_extendable",),
        comment_required=True,
    ),
    Transition(
        "resolve_appeal",
        ("appealed",),
        "concluded",
        _GUARANTOR,
        N_("Resolver el recurso de revisión"),
        fields=("appeal_decision", "appeal_resolution"),
        guards=("appeal_closes",),
        dedicated=True,  # resolved on the request's staff page, whose form collects the decision
    ),
    Transition(
        "resolve_appeal",
        ("appealed",),
        "compliance",
        _GUARANTOR,
        N_("Resolver el recurso de revisión"),
        fields=("appeal_decision", "appeal_resolution"),
        guards=("appeal_orders",),
        dedicated=True,  # resolved on the request's staff page, whose form collects the decision
    ),
    Transition(
        "report_compliance",
        ("compliance",),
        "compliance_review",
        _UNIT,
        N_("Informar el cumplimiento de la resolución"),
        fields=("compliance_report",),
        required_fields=("compliance_report",),
        dedicated=True,  # reported on the request's staff page, whose form collects the report
    ),
    Transition(
        "accept_compliance",
        ("compliance_review",),
        "concluded",
        _GUARANTOR,
        N_("Tener por cumplida la resolución"),
        fields=("compliance_ruled", "compliance_ruling"),
        dedicated=True,  # the service mails the requester the ruling and its legal basis
    ),
    Transition(
        "reject_compliance",
        ("compliance_review",),
        "compliance",
        _GUARANTOR,
        N_("Requerir el cumplimiento"),
        fields=("compliance_ruled", "compliance_ruling"),
        comment_required=True,
        dedicated=True,  # the service mails the requester the ruling, its legal basis and the new term
    ),
    *_lapses(
        "response_lapsed",
        WORKING,
        "response_overdue_on",
        N_("Vence el plazo de respuesta sin que se responda"),
        ("applicant", "assignee"),
    ),
    _lapse(
        "prevention_window_closed",
        ("received",),
        "prevention_window_closed_on",
        N_("Vence el plazo para formular la prevención"),
    ),
    _lapse(
        "public_source_window_closed",
        ("received",),
        "public_source_window_closed_on",
        N_("Vence el plazo para indicar la fuente de la información ya pública"),
    ),
    *_lapses(
        "incompetence_window_closed",
        ("received", "turned"),
        "incompetence_window_closed_on",
        N_("Vence el plazo para declarar la incompetencia"),
    ),
    *_lapses(
        "appeal_window_closed",
        WORKING,
        "appeal_window_closed_on",
        N_("Vence el plazo para recurrir la falta de respuesta"),
    ),
    _lapse("resolution_lapsed", ("appealed",), "resolution_overdue_on", N_("Vence el plazo para resolver el recurso")),
)

CLOCKS = (
    Clock(
        "response",
        "response_days",
        N_("Plazo de respuesta"),
        running=WORKING,
        paused=("prevention",),
        on_lapse="response_lapsed",
        lapse_field="response_overdue_on",
        extension_trigger="approve_extension",
        extension_days_param="extension_days",
        restart_param="prevention_effect",
    ),
    Clock(
        "prevention_window",
        "prevention_issue_days",
        N_("Plazo para formular la prevención"),
        running=("received",),
        on_lapse="prevention_window_closed",
        lapse_field="prevention_window_closed_on",
    ),
    Clock(
        "public_source_window",
        "public_source_days",
        N_("Plazo para indicar la fuente de la información ya pública"),
        running=("received",),
        paused=("prevention",),
        on_lapse="public_source_window_closed",
        lapse_field="public_source_window_closed_on",
    ),
    Clock(
        "incompetence_window",
        "incompetence_days",
        N_("Plazo para declarar la incompetencia"),
        running=("received", "turned"),
        paused=("prevention",),
        on_lapse="incompetence_window_closed",
        lapse_field="incompetence_window_closed_on",
    ),
    Clock(
        "silence_appeal",
        "appeal_days",
        N_("Plazo para recurrir la falta de respuesta"),
        running=WORKING,
        started_by=("response_lapsed",),
        on_lapse="appeal_window_closed",
        lapse_field="appeal_window_closed_on",
    ),
    Clock(
        "resolution",
        "resolution_days",
        N_("Plazo para resolver el recurso"),
        running=("appealed",),
        on_lapse="resolution_lapsed",
        lapse_field="resolution_overdue_on",
        extension_trigger="extend_resolution",
        extension_days_param="resolution_extension_days",
    ),
)

ACCESS_V1 = Workflow(
    name="access_request",
    version=1,
    title=N_("Solicitud de acceso a la información"),
    folio_prefix="SAI",
    initial="received",
    states=STATES,
    transitions=TRANSITIONS,
    guards=GUARDS,
    params=DEFAULT_PARAMS,
    param_parsers={
        "reproduction_fees": parse_fees,
        "legal_bases": parse_legal_bases,
        "payment_days": parse_payment_days,
    },
    param_choices={"prevention_effect": (RESTART, PAUSE)},
    catalogues={"delivery_format": ("delivery_formats",), "appeal_grounds": ("appeal_grounds",)},
    clocks=CLOCKS,
    opening_fields=("information_requested", "delivery_format"),
    audience_field="turned_to",
    input_guards=frozenset(
        {
            "public_source_given",
            "areas_named",
            "answers_valid",
            "committee_decision_valid",
            "quorum_and_majority",
            "cost_as_published",
            "delivery_chosen",
            "grounds_valid",
            "appeal_closes",
            "appeal_orders",
        }
    ),
    description=N_(
        "Solicitud de acceso a la información pública: prevención, turno a las áreas, Comité de Transparencia, "
        "respuesta y recurso de revisión."
    ),
)


def build_gathered(context: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The fields and printed extras the procedure's own service gathered from its tables (the response's
    areas and turns, the committee's session and item), as they are."""
    gathered: Mapping[str, Any] = context["gathered"]
    return gathered["fields"], gathered["extra"]


def build_payment_order(context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payment order of reproduction costs from the cost sheet recorded with the response (pure): its
    reference (the folio, the order's number on the case and MOD 97-10 check digits), the payer, the total and
    the due date (its validity: the payment term, art. 134); the sheet's rows are printed with their basis, and
    the order opens with the basis of the payment (the ``legal_bases`` setting's act ``payment``)."""
    data: Mapping[str, Any] = context["data"]
    earlier: Mapping[str, Any] = (context["previous"].get(PAYMENT_ORDER) or {}).get("fields") or {}
    previous_reference = str(earlier.get("referencia") or "")
    number = int(previous_reference[-4:-2]) + 1 if previous_reference[-4:-2].isdigit() else 1
    fields = {
        "referencia": payment_reference(str(context["folio"]), number),
        "contribuyente": context["applicant"],
        "importe_total": _money(Decimal(str(data.get("reproduction_cost") or "0"))),
        "fecha_limite": context["valid_until"],
    }
    extra = {
        "fundamento": basis_in_sentence(legal_basis(context["params"], "payment")),
        "costos": [
            {
                "concepto": r["concept"],
                "cantidad": r["quantity"],
                "tarifa": r["unit_fee"],
                "importe": r["amount"],
                "fundamento": r["legal_basis"],
            }
            for r in cost_rows(data)
        ],
    }
    return fields, extra


_GATHERER = "app.procedures.access_request.documents"
_TRANSPARENCY_LAW = (
    "Artículo 6o., apartado A, de la Constitución Política de los Estados Unidos Mexicanos; Ley General de "
    "Transparencia y Acceso a la Información Pública y ley de transparencia del Estado, en lo relativo "
)


def _incompetence_notice_basis(params: Mapping[str, Any]) -> str:
    """What the notice of incompetence prints under *Fundamento legal*: the transparency laws, and the article
    the jurisdiction cites for incompetence (``legal_bases`` act ``incompetence``)."""
    cited = basis_in_parentheses(legal_basis(params, "incompetence"))
    return _TRANSPARENCY_LAW + f"a la notoria incompetencia ({cited})."


def _payment_order_basis(params: Mapping[str, Any]) -> str:
    """What the payment order prints under *Fundamento legal*: the transparency laws, and the articles the
    jurisdiction cites for the payment of reproduction costs (``legal_bases`` act ``payment``)."""
    cited = basis_in_parentheses(legal_basis(params, "payment"))
    return _TRANSPARENCY_LAW + f"a los costos de reproducción y envío ({cited})."


DOCUMENTS = (
    Document(
        kind="access_response",
        title=N_("Respuesta a solicitud de acceso a la información"),
        template="access_response.html",
        tipo="RESPUESTA_ACCESO_INFORMACION",
        cadena=(
            "solicitante",
            "fecha_solicitud",
            "informacion_solicitada",
            "sentido_respuesta",
            "areas",
            "modalidad_entrega",
            "costo",
        ),
        rows=(
            Row("solicitante", "Solicitante"),
            Row("fecha_solicitud", "Fecha de presentación", "date"),
            Row("informacion_solicitada", "Información solicitada"),
            Row("sentido_respuesta", "Sentido de la respuesta"),
            Row("areas", "Áreas que atendieron"),
            Row("modalidad_entrega", "Modalidad de entrega"),
            Row("costo", "Costo de reproducción y envío", "money"),
        ),
        legal_basis=_TRANSPARENCY_LAW + "al procedimiento de acceso a la información.",
        gatherer=_GATHERER,
        build=build_gathered,
    ),
    Document(
        kind="committee_resolution",
        title=N_("Resolución del Comité de Transparencia"),
        template="committee_resolution.html",
        tipo="RESOLUCION_COMITE_TRANSPARENCIA",
        cadena=("numero_resolucion", "sesion", "fecha_sesion", "asunto", "sentido", "votacion"),
        rows=(
            Row("numero_resolucion", "Número de resolución"),
            Row("sesion", "Sesión"),
            Row("fecha_sesion", "Fecha de la sesión", "date"),
            Row("asunto", "Asunto"),
            Row("sentido", "Sentido de la resolución"),
            Row("votacion", "Votación"),
        ),
        legal_basis=_TRANSPARENCY_LAW + "a las atribuciones del Comité de Transparencia.",
        gatherer=_GATHERER,
        build=build_gathered,
        act_field="numero_resolucion",
    ),
    Document(
        kind="incompetence_notice",
        title=N_("Notificación de incompetencia"),
        template="incompetence_notice.html",
        tipo="NOTIFICACION_INCOMPETENCIA",
        cadena=("solicitante", "fecha_solicitud", "informacion_solicitada", "sujeto_obligado_competente"),
        rows=(
            Row("solicitante", "Solicitante"),
            Row("fecha_solicitud", "Fecha de presentación", "date"),
            Row("informacion_solicitada", "Información solicitada"),
            Row("sujeto_obligado_competente", "Sujeto obligado competente"),
        ),
        legal_basis=_incompetence_notice_basis(DEFAULT_PARAMS),
        legal_basis_of=_incompetence_notice_basis,
        gatherer=_GATHERER,
        build=build_gathered,
    ),
    Document(
        kind=PAYMENT_ORDER,
        title=N_("Orden de pago de costos de reproducción"),
        template="reproduction_payment_order.html",
        tipo="ORDEN_PAGO_REPRODUCCION",
        cadena=("referencia", "contribuyente", "importe_total", "fecha_limite"),
        rows=(
            Row("referencia", "Línea de captura (referencia)"),
            Row("contribuyente", "Solicitante"),
            Row("importe_total", "Importe total a pagar", "money"),
            Row("fecha_limite", "Fecha límite de pago", "date"),
        ),
        legal_basis=_payment_order_basis(DEFAULT_PARAMS),
        legal_basis_of=_payment_order_basis,
        validity="payment_days",
        validity_business=True,
        build=build_payment_order,
        revoked_with_case=False,
    ),
)
"""The documents access requests issue: the response to the requester, the committee's resolutions and the
notice of incompetence."""


ACCESS_SECTION = N_("Acceso a la información")
ONE_CODE_PER_LINE = N_("Un código por renglón.")

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "prevention_effect",
        N_("Efecto de la prevención sobre el plazo de respuesta"),
        N_(
            "La ley general (art. 128, LGTAIP 2015) interrumpe el plazo: corre de nuevo, completo, desde el día "
            "hábil siguiente al desahogo."
        ),
        ACCESS_SECTION,
        kind="choice",
        labels=(
            (RESTART, N_("Se interrumpe: el plazo corre de nuevo, completo")),
            (PAUSE, N_("Se suspende: el plazo se reanuda con los días ya transcurridos")),
        ),
    ),
    Parameter(
        "legal_bases",
        N_("Fundamento legal de cada acto que se notifica"),
        N_(
            "Objeto JSON que asigna a cada acto la cita de su fundamento: prevention, incompetence, appeal, "
            "resolution y compliance (obligatorios); public_source, payment, extension, classification, "
            "consultation, inexistence, admission (admisión del recurso), dismissal (desechamiento del recurso), "
            "appeal_prevention (prevención del recurso), pleadings (plazo de las partes para alegar), "
            "instruction_closed (cierre de instrucción), "
            "reproduction_costs (renglones de la hoja de costos), late_response (entrega sin costo por respuesta "
            "extemporánea) y cost_waiver (exención del costo), que si faltan citan la ley general de 2015. Se cita "
            "en avisos, páginas, correos y documentos."
        ),
        ACCESS_SECTION,
        kind="json",
    ),
    Parameter(
        "compliance_days",
        N_("Plazo para cumplir la resolución del órgano garante (días hábiles)"),
        N_(
            "Artículo 151 de la LGTAIP (2015): no más de diez días para la entrega de información, salvo que el "
            "órgano garante los amplíe; el cumplimiento se informa conforme a los artículos 196 y 197."
        ),
        ACCESS_SECTION,
    ),
    Parameter(
        "compliance_view_days",
        N_("Plazo del recurrente para manifestarse sobre el informe de cumplimiento (días hábiles)"),
        N_(
            "Artículo 197 de la LGTAIP (2015): el órgano garante da vista al recurrente, que dentro de los cinco "
            "días siguientes manifiesta lo que a su derecho convenga; solo después se pronuncia (art. 198)."
        ),
        section=N_("Plazos del solicitante"),
    ),
    Parameter(
        "committee_members",
        N_("Integrantes del Comité de Transparencia"),
        N_("Artículo 43 de la LGTAIP (2015): órgano colegiado integrado por un número impar."),
        ACCESS_SECTION,
    ),
    Parameter(
        "committee_quorum",
        N_("Quórum del Comité de Transparencia (integrantes presentes)"),
        N_("Por omisión, la mayoría de sus integrantes; resuelve por mayoría de votos (art. 43, LGTAIP 2015)."),
        ACCESS_SECTION,
    ),
    Parameter(
        "prevention_answer_days",
        N_("Plazo del solicitante para aclarar su solicitud prevenida (días hábiles)"),
        section=N_("Plazos del solicitante"),
    ),
    Parameter("response_days", N_("Plazo de respuesta a la solicitud (días hábiles)"), section=ACCESS_SECTION),
    Parameter(
        "extension_days", N_("Ampliación del plazo de respuesta (días hábiles, una vez)"), section=ACCESS_SECTION
    ),
    Parameter("prevention_issue_days", N_("Plazo para formular la prevención (días hábiles)"), section=ACCESS_SECTION),
    Parameter("incompetence_days", N_("Plazo para declarar la incompetencia (días hábiles)"), section=ACCESS_SECTION),
    Parameter(
        "payment_days",
        N_("Plazo del solicitante para pagar los costos de reproducción (días hábiles)"),
        N_("Artículo 134 de la LGTAIP (2015): no más de treinta días; es la fecha límite de la orden de pago."),
        section=N_("Plazos del solicitante"),
    ),
    Parameter(
        "public_source_days",
        N_("Plazo para indicar la fuente de información ya pública (días hábiles)"),
        N_("Artículo 130 de la LGTAIP (2015): no más de cinco días."),
        ACCESS_SECTION,
    ),
    Parameter("appeal_days", N_("Plazo para interponer el recurso de revisión (días hábiles)"), section=ACCESS_SECTION),
    Parameter(
        "resolution_days",
        N_("Plazo del órgano garante para resolver el recurso (días hábiles)"),
        section=ACCESS_SECTION,
    ),
    Parameter(
        "appeal_prevention_days",
        N_("Plazo del recurrente para atender la prevención del órgano garante (días hábiles)"),
        N_("Artículo 145 de la LGTAIP (2015): no más de cinco días; si no la atiende, el recurso se desecha."),
        section=N_("Plazos del solicitante"),
    ),
    Parameter(
        "pleadings_days",
        N_("Plazo de las partes para ofrecer pruebas y formular alegatos en el recurso (días hábiles)"),
        N_(
            "Artículo 150, fracciones II y III, de la LGTAIP (2015): un plazo máximo de siete días desde la "
            "admisión; la Unidad de Transparencia y el recurrente alegan una vez cada uno."
        ),
        section=ACCESS_SECTION,
    ),
    Parameter(
        "resolution_extension_days",
        N_("Ampliación del plazo para resolver el recurso (días hábiles, una vez)"),
        section=ACCESS_SECTION,
    ),
    Parameter("delivery_formats", N_("Modalidades de entrega"), ONE_CODE_PER_LINE, ACCESS_SECTION),
    Parameter(
        "reproduction_fees",
        N_("Costos de reproducción por modalidad"),
        N_(
            'JSON: modalidad → {"unit": simple_page, certified_page, medium o free; "fee": importe en pesos '
            "por hoja o por medio}. Las primeras hojas simples no tienen costo (art. 141, LGTAIP 2015); no se cobra "
            "cuando la respuesta fue extemporánea."
        ),
        ACCESS_SECTION,
        kind="json",
    ),
    Parameter(
        "free_pages",
        N_("Hojas simples sin costo"),
        N_("Artículo 141 de la LGTAIP (2015): la entrega de no más de veinte hojas simples no tiene costo."),
        ACCESS_SECTION,
    ),
    Parameter(
        "shipping_fee",
        N_("Costo de envío (pesos; 0: no se cobra)"),
        N_("Se suma cuando la Unidad envía las copias o el medio al solicitante (art. 141, LGTAIP 2015)."),
        ACCESS_SECTION,
        kind="money",
    ),
    Parameter("appeal_grounds", N_("Causas del recurso de revisión"), ONE_CODE_PER_LINE, ACCESS_SECTION),
)
"""How the access request's settings read on the settings page, in the page's order."""


def _own(name: str, label: str, kind: str = "text") -> Field:
    """A field the procedure's own pages collect or its services write (never typed on the generic case page,
    not listed there): declared for its words, so that every message names it by its label."""
    return Field(name, label, kind, system=True, hidden=True)


FIELDS = (
    _own("information_requested", N_("Información solicitada")),
    _own("delivery_format", N_("Modalidad de entrega"), "code"),
    _own("prevention_text", N_("Texto de la prevención")),
    _own("clarification", N_("Aclaración")),
    _own("competent_body", N_("Sujeto obligado competente")),
    _own("incompetence_reasons", N_("Motivos de la incompetencia")),
    _own("public_source", N_("Fuente de la información ya pública")),
    _own("turned_to", N_("Áreas"), "codes"),
    _own("answers", N_("Respuestas de las áreas"), "list"),
    _own("committee_item", N_("Asunto del Comité"), "code"),
    _own("committee_decision", N_("Sentido de la resolución del Comité"), "code"),
    _own("committee_resolution", N_("Resolución del Comité"), "text"),
    _own(COMMITTEE_VOTE, N_("Votación del Comité"), "list"),
    _own("response_summary", N_("Respuesta")),
    _own("reproduction_cost", N_("Costo de reproducción y envío"), "code"),
    _own(DELIVERED, N_("Documentos entregados"), "list"),
    _own("payment_due_on", N_("Fecha límite de pago"), "code"),
    _own("cost_sheet", N_("Hoja de costos"), "list"),
    _own("page_count", N_("Número de hojas"), "code"),
    _own("media_count", N_("Número de medios de almacenamiento"), "code"),
    _own("shipped", N_("Envío"), "code"),
    _own("cost_waived", N_("Exención del pago"), "code"),
    _own("cost_waiver_reason", N_("Motivo de la exención del pago")),
    _own("consultation_at", N_("Fecha y hora de la consulta directa"), "code"),
    _own("consultation_place", N_("Lugar de la consulta directa")),
    _own("appeal_grounds", N_("Causas del recurso"), "codes"),
    _own("appeal_statement", N_("Razones del recurso")),
    _own("appeal_decision", N_("Sentido de la resolución"), "code"),
    _own("appeal_resolution", N_("Resolución del recurso")),
    _own("appeal_dismissal", N_("Razones del desechamiento del recurso")),
    _own("appeal_prevention_text", N_("Prevención del órgano garante")),
    _own("appeal_clarification", N_("Lo que el recurrente completó de su recurso")),
    _own("unit_pleadings", N_("Alegatos de la Unidad de Transparencia")),
    _own("unit_pleadings_documents", N_("Pruebas de la Unidad de Transparencia"), "list"),
    _own("requester_pleadings", N_("Alegatos del recurrente")),
    _own("requester_pleadings_documents", N_("Pruebas del recurrente"), "list"),
    _own("compliance_report", N_("Informe de cumplimiento")),
    _own("compliance_ruled", N_("Verificación del cumplimiento"), "code"),
    _own("compliance_ruling", N_("Determinación del órgano garante sobre el cumplimiento")),
    _own("compliance_remarks", N_("Manifestación del recurrente sobre el cumplimiento")),
    _own("prevention_window_closed_on", N_("Vencimiento del plazo para prevenir"), "code"),
    _own("public_source_window_closed_on", N_("Vencimiento del plazo para indicar la fuente pública"), "code"),
    _own("incompetence_window_closed_on", N_("Vencimiento del plazo para declarar la incompetencia"), "code"),
    _own("response_overdue_on", N_("Vencimiento del plazo de respuesta"), "code"),
    _own("appeal_window_closed_on", N_("Vencimiento del plazo para recurrir"), "code"),
    _own("resolution_overdue_on", N_("Vencimiento del plazo para resolver el recurso"), "code"),
    _own("pleadings_closed_on", N_("Vencimiento del plazo para alegar"), "code"),
    _own("instruction_closed_on", N_("Fecha del cierre de instrucción"), "code"),
)
"""Every data key of a request, with the words people read for it (``code`` and ``list`` values are stored as
given: the procedure's services already write them in their one form)."""

# -- version 2: the guarantor admits the appeal before its term to resolve runs --------------------------------

APPEAL_FILED = "appeal_filed"
APPEAL_PREVENTION = "appeal_prevention"


def _v2_state(state: State) -> State:
    if state.name == "appealed":
        return State("appealed", N_("Recurso de revisión admitido: el órgano garante lo resuelve"))
    return state


STATES_V2 = tuple(
    replacement
    for state in STATES
    for replacement in (
        (
            State(APPEAL_FILED, N_("Recurso de revisión interpuesto: el órgano garante decide si lo admite")),
            State(
                APPEAL_PREVENTION,
                N_("Prevención del órgano garante: el recurrente debe completar su recurso"),
                deadline=Deadline(
                    "appeal_prevention_days",
                    "appeal_prevention_lapsed",
                    N_("Plazo del recurrente para atender la prevención del órgano garante"),
                ),
            ),
        )
        if state.name == "appealed"
        else ()
    )
    + (_v2_state(state),)
)
"""Version 1's states, with the appeal's admission (and the guarantor's one prevención of the appellant) before
the appeal is resolved."""


def _v2_transition(transition: Transition) -> Transition:
    if transition.trigger == "appeal":
        return dataclasses.replace(transition, dest=APPEAL_FILED)
    return transition


TRANSITIONS_V2 = (
    *(_v2_transition(t) for t in TRANSITIONS),
    Transition(
        "admit_appeal",
        (APPEAL_FILED,),
        "appealed",
        _GUARANTOR,
        N_("Admitir el recurso de revisión"),
        dedicated=True,  # the service mails the requester the last day to resolve it and its legal basis
    ),
    Transition(
        "dismiss_appeal",
        (APPEAL_FILED,),
        "concluded",
        _GUARANTOR,
        N_("Desechar el recurso de revisión por improcedente"),
        fields=("appeal_dismissal",),
        required_fields=("appeal_dismissal",),
        dedicated=True,  # the service mails the requester the reasons and their legal basis
    ),
    Transition(
        "prevent_appeal",
        (APPEAL_FILED,),
        APPEAL_PREVENTION,
        _GUARANTOR,
        N_("Prevenir al recurrente para que complete su recurso (una sola vez)"),
        fields=("appeal_prevention_text",),
        required_fields=("appeal_prevention_text",),
        guards=("appeal_prevention_available",),
        dedicated=True,  # the service mails the requester what to complete, its basis and the last day
    ),
    Transition(
        "answer_appeal_prevention",
        (APPEAL_PREVENTION,),
        APPEAL_FILED,
        _REQUESTER,
        N_("Atender la prevención del órgano garante"),
        owner_only=True,
        fields=("appeal_clarification",),
        required_fields=("appeal_clarification",),
        dedicated=True,  # answered on the tracking page, whose form collects it
    ),
    Transition(
        "appeal_prevention_lapsed",
        (APPEAL_PREVENTION,),
        "concluded",
        _SYSTEM,
        N_("Venció el plazo para atender la prevención del órgano garante: el recurso se desecha"),
        notify=("applicant",),
    ),
)
"""Version 1's transitions; an appeal is filed (``appeal_filed``), and the guarantor admits it, which starts its
term to resolve (LGTAIP 2015 art. 146: forty days "contados a partir de la admisión"), or dismisses it as
improper (art. 155), or prevents the appellant once to complete it (art. 145: within a term of up to five days;
unanswered, the appeal is dismissed, art. 155 fr. IV). Version 1 started that term at the filing and told the
requester the appeal was admitted."""

ACCESS_V2 = dataclasses.replace(
    ACCESS_V1,
    version=2,
    states=STATES_V2,
    transitions=TRANSITIONS_V2,
    param_parsers={**ACCESS_V1.param_parsers, "appeal_prevention_days": parse_appeal_prevention_days},
)

# -- version 3: the parties plead between the admission and the resolution ------------------------------------

APPEAL_PLEADINGS = "appeal_pleadings"
PLEADINGS_DOCUMENT = "pruebas_alegatos"
"""Document kind of the evidence a party offers with its pleadings (a PDF, optional): the unit's or the
appellant's."""


def _v3_state(state: State) -> State:
    if state.name == "appealed":
        return State("appealed", N_("Instrucción cerrada: el órgano garante resuelve el recurso de revisión"))
    return state


STATES_V3 = tuple(
    replacement
    for state in STATES_V2
    for replacement in (
        (State(APPEAL_PLEADINGS, N_("Recurso de revisión admitido: las partes ofrecen pruebas y formulan alegatos")),)
        if state.name == "appealed"
        else ()
    )
    + (_v3_state(state),)
)
"""Version 2's states, with the admitted appeal's instruction (the parties' pleadings) before the guarantor closes
it and resolves."""


def _v3_transition(transition: Transition) -> Transition:
    if transition.trigger == "admit_appeal":
        return dataclasses.replace(transition, dest=APPEAL_PLEADINGS)
    return transition


TRANSITIONS_V3 = (
    *(_v3_transition(t) for t in TRANSITIONS_V2),
    Transition(
        UNIT_PLEADS,
        (APPEAL_PLEADINGS,),
        APPEAL_PLEADINGS,
        _UNIT,
        N_("Presentar los alegatos y las pruebas de la Unidad de Transparencia"),
        fields=("unit_pleadings", "unit_pleadings_documents"),
        required_fields=("unit_pleadings",),
        guards=("unit_pleadings_open",),
        dedicated=True,  # the unit's page collects the text and the evidence; the service mails the other parties
    ),
    Transition(
        REQUESTER_PLEADS,
        (APPEAL_PLEADINGS,),
        APPEAL_PLEADINGS,
        _REQUESTER,
        N_("Presentar los alegatos del recurrente"),
        owner_only=True,
        fields=("requester_pleadings", "requester_pleadings_documents"),
        required_fields=("requester_pleadings",),
        guards=("requester_pleadings_open",),
        dedicated=True,  # filed on the tracking page, whose form collects it
    ),
    _lapse(
        "pleadings_lapsed",
        (APPEAL_PLEADINGS,),
        "pleadings_closed_on",
        N_("Vence el plazo de las partes para ofrecer pruebas y formular alegatos"),
    ),
    Transition(
        "close_instruction",
        (APPEAL_PLEADINGS,),
        "appealed",
        _GUARANTOR,
        N_("Decretar el cierre de instrucción"),
        fields=("instruction_closed_on",),
        required_fields=("instruction_closed_on",),
        guards=("pleadings_over",),
        dedicated=True,  # the service mails the parties the closing and its legal basis
    ),
    *_self_loops(
        "extend_resolution",
        (APPEAL_PLEADINGS,),
        _GUARANTOR,
        N_("Ampliar el plazo para resolver el recurso"),
        guards=("resolution_extendable",),
        comment_required=True,
    ),
    _lapse(
        "resolution_lapsed", (APPEAL_PLEADINGS,), "resolution_overdue_on", N_("Vence el plazo para resolver el recurso")
    ),
)
"""Version 2's transitions; the admission opens the instruction (``appeal_pleadings``, LGTAIP 2015 art. 150, fr. II
and III): the unit and the appellant may each plead once (text, and the unit's evidence) while the parties' term
(``pleadings_days``, seven days by default) runs; once it has run, or both have pleaded, the guarantor closes the
instruction (fr. VII) and only then resolves (``appealed``). The term to resolve runs from the admission
throughout (art. 146) and may be extended in either state."""


def _v3_clock(clock: Clock) -> Clock:
    if clock.name == "resolution":
        return dataclasses.replace(clock, running=(APPEAL_PLEADINGS, "appealed"))
    return clock


CLOCKS_V3 = (
    *(_v3_clock(c) for c in CLOCKS),
    Clock(
        "pleadings",
        "pleadings_days",
        N_("Plazo de las partes para ofrecer pruebas y formular alegatos"),
        running=(APPEAL_PLEADINGS,),
        on_lapse="pleadings_lapsed",
        lapse_field="pleadings_closed_on",
    ),
)
"""Version 1's clocks, the term to resolve running through the instruction too, and the parties' term to plead
(business days from the day after the admission)."""

ACCESS_V3 = dataclasses.replace(
    ACCESS_V2,
    version=3,
    states=STATES_V3,
    transitions=TRANSITIONS_V3,
    clocks=CLOCKS_V3,
    param_parsers={**ACCESS_V2.param_parsers, "pleadings_days": parse_pleadings_days},
)

# -- version 4: the appellant's view of the compliance report (LGTAIP 2015 arts. 197 and 198) ------------------


def _v4_state(state: State) -> State:
    if state.name == "compliance_review":
        return State(
            "compliance_review",
            N_("El órgano garante revisa el cumplimiento; el recurrente puede manifestarse sobre el informe"),
            deadline=Deadline(
                "compliance_view_days",
                COMPLIANCE_VIEW_LAPSED,
                N_("Plazo del recurrente para manifestarse sobre el informe de cumplimiento"),
            ),
        )
    return state


def _v4_transition(transition: Transition) -> Transition:
    if transition.trigger in {"accept_compliance", "reject_compliance"}:
        return dataclasses.replace(transition, guards=(*transition.guards, "compliance_view_over"))
    return transition


TRANSITIONS_V4 = (
    *(_v4_transition(t) for t in TRANSITIONS_V3),
    Transition(
        COMPLIANCE_REMARKS,
        ("compliance_review",),
        "compliance_review",
        _REQUESTER,
        N_("Manifestarse sobre el informe de cumplimiento"),
        owner_only=True,
        fields=("compliance_remarks",),
        required_fields=("compliance_remarks",),
        guards=("compliance_remarks_open",),
        dedicated=True,  # filed on the tracking page; the service mails the guarantor body the remarks
    ),
    Transition(
        COMPLIANCE_VIEW_LAPSED,
        ("compliance_review",),
        "compliance_review",
        _SYSTEM,
        N_("Vence el plazo del recurrente para manifestarse sobre el informe de cumplimiento"),
    ),
)
"""Version 3's transitions; each compliance report opens a view for the appellant (LGTAIP 2015 art. 197): within
``compliance_view_days`` (five business days by default) it may make remarks on the report once, saying why the
compliance does not match the resolution; the guarantor rules on the report (accepts it or requires compliance
again, art. 198) only once the appellant has made them or the term has run."""

ACCESS_V4 = dataclasses.replace(
    ACCESS_V3,
    version=4,
    states=tuple(_v4_state(state) for state in STATES_V3),
    transitions=TRANSITIONS_V4,
    param_parsers={**ACCESS_V3.param_parsers, "compliance_view_days": parse_compliance_view_days},
)

PROCEDURE = Procedure(
    name="access_request",
    workflows=(ACCESS_V1, ACCESS_V2, ACCESS_V3, ACCESS_V4),
    parameters=PARAMETERS,
    fields=(
        *FIELDS,
        Field("payment_reference", N_("Línea de captura pagada"), system=True),
        Field("payment_amount", N_("Importe pagado"), "money", system=True),
        Field("payment_paid_on", N_("Fecha de pago"), "date", system=True),
        Field("payment_operation", N_("Operación de pago (Tesorería)"), system=True),
    ),
    departments=(Department("transparencia", N_("Unidad de Transparencia"), "Transparency Unit"),),
    presentation=Presentation(
        binds={
            "prevention": "applicant",
            "answered": "applicant",
            "incompetent": "applicant",
            "awaiting_payment": "applicant",
            APPEAL_PREVENTION: "applicant",
            "compliance_review": "applicant",  # version 4: the appellant's view of the compliance report
        }
    ),
    documents=DOCUMENTS,
    plugin="app.procedures.access_request.plugin",
    demo=Demo(loader="app.procedures.access_request.demo:load_demo"),
    notice_path="/transparencia/consulta",
    tracking_path="/transparencia/seguimiento/",  # the tracking link is never mailed again: the public lookup by folio
    applicant_alias="app.procedures.access_request.services:pseudonym",
    delivered=delivered_now,
    owns=("app/procedures/access_request",),
    payment=Payment(
        order=PAYMENT_ORDER,
        confirm_trigger="confirm_payment",
        awaiting="answered",
        also_awaiting=("awaiting_payment",),
        reference_field="payment_reference",
        amount_field="payment_amount",
        paid_on_field="payment_paid_on",
        operation_field="payment_operation",
    ),
)
"""Access requests: areas, committee and appeals are their own pages (``app.procedures.access_request.plugin``)."""
