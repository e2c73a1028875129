"""Demo access-to-information requests in different states (see ``app.services.demo``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from app.extensions import db
from app.models import Case
from app.procedures.access_request import services as svc


def _version(case_id: int) -> int:
    case = db.session.get(Case, case_id)
    return case.version if case is not None else 0


def load_demo(ids: Mapping[str, int]) -> None:
    """The access requests of the demo, by the demo logins' ids (see ``Demo.loader``)."""
    load_demo_requests(
        ids["transparencia"],
        (ids["area"], ids["area_finanzas"]),
        ("obras_publicas", "finanzas"),
        ids["comite"],
        ids["garante"],
    )


def load_demo_requests(
    unit: int, areas: tuple[int, int], departments: tuple[str, str], committee: int, guarantor: int
) -> None:
    """File a few requests without accounts and move them to: received, prevención, turned (one area
    answered), in committee, answered, appealed (awaiting the guarantor's admission), appealed and admitted (the
    parties' term to plead runs: the requester pleaded, the unit has yet to), appealed, resolved and reported
    complied (the requester's term to make remarks on the report runs), and answered in simple copies with a
    payment order the treasury has yet to confirm."""
    area_a, area_b = areas
    dept_a, dept_b = departments
    svc.file_request(
        "Lectora Curiosa", "lectora@correo.example", "Presupuesto ejercido en alumbrado 2025", "electronic"
    )
    unclear = svc.file_request("Vecino 42", "vecino42@correo.example", "Los contratos", "electronic")
    svc.unit_act(
        unclear.case_id,
        "prevent",
        unit,
        expected_version=_version(unclear.case_id),
        comment="Precise el tipo de contratos y el periodo.",
    )
    turned = svc.file_request("Periodista", "prensa@correo.example", "Licencias de construcción 2025", "usb")
    svc.turn_request(turned.case_id, [dept_a, dept_b], unit, expected_version=_version(turned.case_id))
    svc.answer_turn(
        turned.case_id,
        dept_a,
        svc.AreaAnswer("available", answer_text="Se anexa el listado"),
        area_a,
        expected_version=_version(turned.case_id),
    )
    classified = svc.file_request(
        "Observatorio", "observatorio@correo.example", "Planos del palacio municipal", "electronic"
    )
    svc.turn_request(classified.case_id, [dept_a], unit, expected_version=_version(classified.case_id))
    svc.answer_turn(
        classified.case_id,
        dept_a,
        svc.AreaAnswer(
            "reserved",
            partial=True,
            legal_basis="Art. 113, fracción V, LGTAIP",
            harm_test="Su difusión pondría en riesgo la seguridad del inmueble.",
            reservation_years=5,
        ),
        area_a,
        expected_version=_version(classified.case_id),
    )
    svc.unit_act(classified.case_id, "consolidate", unit, expected_version=_version(classified.case_id))
    session_id = svc.open_session("CT-2026-01", date(2026, 11, 30), committee)
    svc.submit_to_committee(classified.case_id, session_id, unit, expected_version=_version(classified.case_id))
    for pseudonym, email, appeal, information in (
        ("Ciudadana", "ciudadana@correo.example", "", "Nómina de la Tesorería"),
        ("Ciudadano", "ciudadano@correo.example", "filed", "Nómina de la Tesorería"),
        ("Ciudadano", "ciudadano@correo.example", "admitted", "Nómina de la Tesorería 2024"),
        ("Vecina", "vecina@correo.example", "reported", "Nómina de la Tesorería 2023"),
    ):
        done = svc.file_request(pseudonym, email, information, "electronic")
        svc.turn_request(done.case_id, [dept_b], unit, expected_version=_version(done.case_id))
        svc.answer_turn(
            done.case_id, dept_b, svc.AreaAnswer("available"), area_b, expected_version=_version(done.case_id)
        )
        svc.unit_act(done.case_id, "consolidate", unit, expected_version=_version(done.case_id))
        svc.deliver_response(done.case_id, "Se entrega la nómina.", unit, expected_version=_version(done.case_id))
        if appeal:
            svc.requester_act(
                done.token,
                "appeal",
                expected_version=_version(done.case_id),
                data={"appeal_grounds": ["incomplete"], "appeal_statement": "Faltan las compensaciones."},
            )
        if appeal in {"admitted", "reported"}:  # the instruction runs (LGTAIP 2015 art. 150): the unit is to plead
            svc.guarantor_act(done.case_id, "admit_appeal", guarantor, expected_version=_version(done.case_id))
            svc.requester_act(
                done.token,
                "file_requester_pleadings",
                expected_version=_version(done.case_id),
                data={"requester_pleadings": "La nómina entregada omite las compensaciones de los mandos medios."},
            )
        if appeal == "reported":
            _complied(done.case_id, unit, guarantor)
    copies = svc.file_request("Investigadora", "investigadora@correo.example", "Actas de cabildo 2025", "simple_copies")
    svc.turn_request(copies.case_id, [dept_b], unit, expected_version=_version(copies.case_id))
    svc.answer_turn(
        copies.case_id, dept_b, svc.AreaAnswer("available"), area_b, expected_version=_version(copies.case_id)
    )
    svc.unit_act(copies.case_id, "consolidate", unit, expected_version=_version(copies.case_id))
    svc.deliver_response(  # 45 simple pages: 20 free, 25 charged; the treasury sees its payment order
        copies.case_id,
        "Se entregan las actas en copia simple una vez confirmado el pago.",
        unit,
        expected_version=_version(copies.case_id),
        costs=svc.Costs(page_count=45),
    )


def _complied(case_id: int, unit: int, guarantor: int) -> None:
    """The unit pleads, the guarantor closes the instruction and revokes the response, and the unit reports its
    compliance: the requester has a view of the report (LGTAIP 2015 art. 197)."""
    svc.file_unit_pleadings(case_id, "La nómina se entregó completa.", unit, expected_version=_version(case_id))
    svc.guarantor_act(case_id, "close_instruction", guarantor, expected_version=_version(case_id))
    svc.guarantor_act(
        case_id,
        "resolve_appeal",
        guarantor,
        expected_version=_version(case_id),
        data={"appeal_decision": "revoke", "appeal_resolution": "Entréguense las compensaciones de los mandos medios."},
    )
    svc.unit_act(
        case_id,
        "report_compliance",
        unit,
        expected_version=_version(case_id),
        data={"compliance_report": "Se entregaron las compensaciones de los mandos medios."},
    )
