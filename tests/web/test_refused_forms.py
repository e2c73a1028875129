"""A public servant whose access to a case ends while they write one of its forms (moved to another area, the
case reassigned) is told why and who acts next, and sees what they typed and ticked: nothing is lost."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import update

from app.extensions import db
from app.models import Case, Role, UserRole
from app.services.case_actions import act
from tests.support.factories import advance, case_version, make_user, vecs_case
from tests.web.helpers import csrf_token, flashes, form_fields, kept_text, login_as, text

COMMENT = "Faltan las cotas del plano de planta; <la superficie> no coincide."
POINTS = {"planos": "Planos arquitectónicos y memoria descriptiva", "datos_predio": "Datos del predio"}


def _intake_case(clerk: int) -> int:
    """A VECS case in intake review, started by ``clerk``."""
    draft = vecs_case(make_user(Role.APPLICANT))
    case = db.session.get(Case, draft.case_id)
    assert case is not None
    submitted = advance(draft, [("submit", case.applicant_id, None, None)])
    return advance(submitted, [("start_intake", clerk, None, None)]).case_id


def _moved(user_id: int) -> None:
    """An administrator moves the user from the intake window to the review office (another role of the same
    procedure, with no step on a case in intake review)."""
    db.session.rollback()
    db.session.execute(update(UserRole).where(UserRole.user_id == user_id).values(role=Role.REVIEWER))
    db.session.commit()


def test_a_clerk_moved_to_another_office_while_writing_a_prevention_keeps_the_points_and_the_reasons(
    client: FlaskClient,
) -> None:
    starter, clerk = make_user((Role.INTAKE_CLERK, "ventanilla")), make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(starter)
    version = case_version(case_id)
    login_as(client, clerk)
    body = text(client.get(f"/expedientes/{case_id}"))
    action = f"/expedientes/{case_id}/acciones/issue_prevention"
    sent = form_fields(body, action)
    _moved(clerk)

    answer = client.post(
        action,
        data={**sent, "issue_prevention-prevention_items": list(POINTS), "issue_prevention-comment": COMMENT},
    )

    assert answer.status_code == 403
    assert "Este expediente no es suyo ni le corresponde por su rol o su área. Ahora le toca actuar a:" in text(answer)
    kept = kept_text(answer)
    assert "«Prevenir al solicitante (una sola vez)» no se registró" in kept
    assert "Lo que escribió no se perdió" in kept
    for label in POINTS.values():
        assert f"<li>{label}</li>" in kept  # the points ticked, by their labels
    assert COMMENT in kept
    assert "&lt;la superficie&gt;" in answer.get_data(as_text=True)  # what was typed is shown escaped
    db.session.rollback()
    assert case_version(case_id) == version  # nothing recorded


def test_an_unknown_case_still_answers_not_found(client: FlaskClient) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    login_as(client, clerk)
    token = csrf_token(text(client.get("/inicio")), "/logout")
    answer = client.post("/expedientes/999999/acciones/accept_intake", data={"accept_intake-csrf_token": token})
    assert answer.status_code == 404


def test_an_applicant_step_sent_after_the_request_left_their_hands_is_shown_back(client: FlaskClient) -> None:
    applicant = make_user(Role.APPLICANT)
    draft = vecs_case(applicant)
    login_as(client, applicant)
    action = f"/expedientes/{draft.case_id}/pasos/predio"
    data = form_fields(text(client.get(action)), action)
    act(draft.case_id, "submit", applicant, expected_version=case_version(draft.case_id), idempotency_key="k" * 32)
    typed = "Calle Reforma 1234, colonia Centro"
    answer = client.post(action, data={**data, "property_address": typed})
    assert answer.status_code == 409
    assert "La solicitud ya no se puede modificar en esta etapa." in flashes(answer)
    assert f'value="{typed}"' in text(answer)
