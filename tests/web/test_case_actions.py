"""The case page's action forms (``app.web.cases.actions``): a blank form is kept per definition, step, language
and choices, with marks in place of the page's values. These tests hold its markup to what the template
rendered from WTForms forms before (the reference below), and check that each page, case and request gets its
own link, version, key and token, in its own language, and that a form posted back keeps what was typed."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from app.engine import ConflictError, Msg
from app.extensions import db
from app.models import AuditEntry, Case, Role
from app.services.case_pages import CasePage, case_page
from app.web.cases import actions, views
from app.web.cases.labels import procedure_of
from forms.cases import action_form
from tests.support.factories import advance, case_version, make_user, vecs_case
from tests.web.helpers import csrf_token, flashes, hidden_value, login_as, set_language

REFERENCE = """{% from "cases/_macros.html" import field with context %}
{% for trig in shown %}
    {% set form = forms[trig.trigger] %}
    {% set ending = page.workflow.state(trig.dest).terminal %}
    {% set style = presentation.style(trig.trigger) if presentation else 'primary' %}
    <form method="post" action="{{ url_for('cases.fire_trigger', case_id=page.case.id, trigger=trig.trigger) }}" \
class="action{% if ending %} ending{% endif %}" id="accion-{{ trig.trigger }}" novalidate>
      <h3>{{ _(trig.description) }}</h3>
      {{ form.hidden_tag() }}
      {% for name in form.input_names %}{{ field(form[name], rows=3) }}{% endfor %}
      {% if trig.comment_required %}{{ field(form.comment, rows=4) }}{% else %}<details><summary>\
{{ _('Agregar un comentario (opcional)') }}</summary>{{ field(form.comment, rows=2) }}</details>{% endif %}
      <button type="submit" class="{{ style }}">{{ _(trig.description) }}</button>
    </form>
{% endfor %}"""
"""The case page's action forms as its template rendered them from WTForms forms built on every request."""


def _squeezed(markup: str) -> str:
    return re.sub(r">\s+<", "><", markup).strip()


def _reference(app: Flask, page: CasePage, key: str, token: str) -> str:
    """The forms of ``page`` as the template rendered them, every form with ``key`` and ``token``."""
    procedure = procedure_of(page.workflow)
    edit = procedure.edit_trigger if procedure is not None else "edit"
    shown = [t for t in page.triggers if t.enabled and t.trigger != edit]
    forms = {}
    for trig in shown:
        inputs = actions.step_inputs(page.workflow, trig.fields)
        choices = actions.item_choices(page) if any(i.type == "codes" for i in inputs) else ()
        form = action_form(trig.trigger, inputs, trig.comment_required, item_choices=choices, formdata=None)
        form.expected_version.data = str(page.case.version)
        form.idempotency_key.data = key
        form.csrf_token.current_token = token
        forms[trig.trigger] = form
    template = app.jinja_env.from_string(REFERENCE)
    presentation = procedure.presentation if procedure is not None else None
    return template.render(shown=shown, forms=forms, page=page, presentation=presentation)


def _intake_case(clerk: int) -> int:
    """A VECS case in intake review: the clerk may prevent (a list of points, a required comment) or accept it,
    the applicant may withdraw it (an ending)."""
    draft = vecs_case(make_user(Role.APPLICANT))
    submitted = advance(draft, [("submit", _applicant_of(draft.case_id), None, None)])
    return advance(submitted, [("start_intake", clerk, None, None)]).case_id


def _applicant_of(case_id: int) -> int:
    """The applicant of the case ``case_id``."""
    case = db.session.get(Case, case_id)
    assert case is not None
    return case.applicant_id


def _hidden(body: str, case_id: int, trigger: str) -> dict[str, str]:
    """The hidden fields of the form of ``trigger`` on the page ``body`` of the case ``case_id``."""
    action = f"/expedientes/{case_id}/acciones/{trigger}"
    names = (f"{trigger}-csrf_token", f"{trigger}-expected_version", f"{trigger}-idempotency_key")
    return {name: hidden_value(body, name, action) for name in names}


def test_kept_forms_are_the_templates_forms_in_each_language(app: Flask, client: FlaskClient) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    first, second = _intake_case(clerk), _intake_case(clerk)
    # the clerk's forms and the applicant's (withdrawal: an ending, in the danger style), each case twice
    readers = [
        (first, clerk),
        (second, clerk),
        (first, _applicant_of(first)),
        (first, clerk),
        (second, _applicant_of(second)),
    ]
    offered: set[str] = set()
    every = ""
    for locale in ("es_MX", "en", "es_MX"):
        for case_id, reader in readers:
            with app.test_request_context(f"/expedientes/{case_id}"), force_locale(locale):
                page = case_page(case_id, reader)
                token = generate_csrf()
                shown = str(actions.action_forms(page, key="k" * 32, token=token))
                expected = _reference(app, page, "k" * 32, token)
            assert _squeezed(shown) == _squeezed(expected)
            for mark in (actions.URL_MARK, actions.KEY_MARK, actions.TOKEN_MARK, actions.VERSION_MARK):
                assert mark not in shown
            offered |= set(re.findall(r'id="accion-([a-z_]+)"', shown))
            every += shown
    # a list of points offers the case's own documents: a case with fewer of them is offered only those
    with app.test_request_context(f"/expedientes/{first}"):
        page = case_page(first, clerk)
        fewer = dataclasses.replace(page, requirements=page.requirements[1:])
        for shown_page in (page, fewer, page):
            token = generate_csrf()
            shown = str(actions.action_forms(shown_page, key="k" * 32, token=token))
            assert _squeezed(shown) == _squeezed(_reference(app, shown_page, "k" * 32, token))
        assert page.requirements[0].label in str(actions.action_forms(page))
        assert page.requirements[0].label not in str(actions.action_forms(fewer))
    # the steps cover a list of points with choices, a required comment, an ending and plain steps
    assert {"issue_prevention", "accept_intake", "withdraw"} <= offered
    assert 'type="checkbox"' in every
    assert 'class="action ending"' in every
    assert "Add a comment (optional)" in every


def test_each_page_gets_its_own_link_version_key_and_token(app: Flask, client: FlaskClient) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    first, second = _intake_case(clerk), _intake_case(clerk)
    login_as(client, clerk)
    seen_keys = set()
    for case_id in (first, second, first):
        body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
        action = f"/expedientes/{case_id}/acciones/accept_intake"
        assert f'action="{action}"' in body
        version = case_page(case_id, clerk).case.version
        assert hidden_value(body, "accept_intake-expected_version", action) == str(version)
        keys = set(re.findall(r'name="[a-z_]+-idempotency_key" type="hidden" value="([0-9a-f]{32})"', body))
        assert len(keys) == body.count('-idempotency_key" type="hidden"') >= 2  # a key of its own for every form
        assert not keys & seen_keys
        seen_keys |= keys
        token = hidden_value(body, "accept_intake-csrf_token", action)
        assert token == hidden_value(
            body, "issue_prevention-csrf_token", action.replace("accept_intake", "issue_prevention")
        )
        assert token == csrf_token(body, "/language")  # the request's token, as every form of the page has it
        assert actions.URL_MARK not in body
        assert actions.TOKEN_MARK not in body

    # the kept form posts: its token, version and key are the page's
    body = client.get(f"/expedientes/{second}").get_data(as_text=True)
    action = f"/expedientes/{second}/acciones/accept_intake"
    answer = client.post(action, data=_hidden(body, second, "accept_intake"))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    db.session.rollback()  # the test's session read the case before the request moved it
    assert case_page(second, clerk).case.state == "land_use_review"


def test_a_refused_form_comes_back_with_what_was_typed_in_the_page_language(client: FlaskClient) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    set_language(client, "en", f"/expedientes/{case_id}")
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    action = f"/expedientes/{case_id}/acciones/issue_prevention"
    typed = {"issue_prevention-comment": "Falta <b>el plano</b>"}  # no point chosen: refused
    answer = client.post(action, data={**_hidden(body, case_id, "issue_prevention"), **typed})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    form = page[page.index('id="accion-issue_prevention"') :]
    form = form[: form.index("</form>")]
    assert "Falta &lt;b&gt;el plano&lt;/b&gt;" in form  # what was typed, escaped
    assert 'class="error"' in form
    assert "Add a comment" not in form  # the required comment is not optional
    other = page[page.index('id="accion-accept_intake"') :]
    assert "Add a comment (optional)" in other[: other.index("</form>")]  # the blank forms in English too


# -- a form sent back loses nothing ---------------------------------------------------------------------

PREVENTION = "/expedientes/{}/acciones/issue_prevention"
TICKED = ["planos", "datos_predio"]
TICKED_LABELS = ("Planos arquitectónicos y memoria descriptiva", "Datos del predio")
COMMENT = "Faltan las cotas del plano de planta y la superficie del predio no coincide."


def _prevention(body: str, case_id: int, **changes: str | list[str]) -> dict[str, str | list[str]]:
    """The prevención form of the page ``body`` as the clerk fills it: two points ticked and the reasons."""
    typed: dict[str, str | list[str]] = {
        "issue_prevention-prevention_items": TICKED,
        "issue_prevention-comment": COMMENT,
    }
    return {**_hidden(body, case_id, "issue_prevention"), **typed, **changes}


def _form_of(body: str, trigger: str) -> str:
    """The markup of ``trigger``'s form on the page ``body``."""
    start = body.index(f'id="accion-{trigger}"')
    return body[start : body.index("</form>", start)]


def _ticked(form: str) -> list[str]:
    """The values of the checked boxes of a form's markup."""
    return re.findall(r'<input checked id="[^"]+" name="[^"]+" required type="checkbox" value="([^"]+)"', form)


def _bump(case_id: int) -> None:
    """Someone changes the case without moving it (as a concurrent document upload would)."""
    db.session.rollback()
    db.session.execute(Case.__table__.update().where(Case.id == case_id).values(version=Case.version + 1))
    db.session.commit()


def test_a_step_the_case_no_longer_offers_says_what_happened_and_shows_the_points_and_the_comment(
    app: Flask, client: FlaskClient
) -> None:
    clerk, other = make_user((Role.INTAKE_CLERK, "ventanilla")), make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    # meanwhile another clerk accepts the case: it moves on to the land-use review
    colleague = app.test_client()
    login_as(colleague, other)
    shown = colleague.get(f"/expedientes/{case_id}").get_data(as_text=True)
    accepted = colleague.post(
        f"/expedientes/{case_id}/acciones/accept_intake", data=_hidden(shown, case_id, "accept_intake")
    )
    assert accepted.status_code == 302

    answer = client.post(PREVENTION.format(case_id), data=_prevention(body, case_id))
    assert answer.status_code == 409
    page = html.unescape(answer.get_data(as_text=True))
    assert 'id="accion-issue_prevention"' not in page
    kept = page[page.index('id="texto-conservado"') : page.index("</section>", page.index('id="texto-conservado"'))]
    assert "«Prevenir al solicitante (una sola vez)» no se registró" in kept
    assert "ahora está en «Dictamen de uso de suelo y alineamiento»" in kept
    for label in TICKED_LABELS:
        assert f"<li>{label}</li>" in kept  # the points ticked, by their labels
    assert COMMENT in kept
    db.session.rollback()
    assert db.session.get(Case, case_id).data.get("prevention_items") is None  # type: ignore[union-attr]


def test_a_form_refused_for_its_input_on_a_case_that_changed_comes_back_ticked_at_the_current_version(
    client: FlaskClient,
) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    sent = _prevention(body, case_id, **{"issue_prevention-comment": "  "})  # the required reasons left out
    _bump(case_id)

    answer = client.post(PREVENTION.format(case_id), data=sent)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    form = _form_of(page, "issue_prevention")
    assert sorted(_ticked(form)) == sorted(TICKED)
    assert 'class="error"' in form
    messages = flashes(answer)
    assert "Revise los datos marcados en «Prevenir al solicitante (una sola vez)»." in messages
    assert any(m.startswith("El expediente cambió mientras usted preparaba") for m in messages)
    # shown again at the case's current version, with a key of its own
    again = _hidden(page, case_id, "issue_prevention")
    assert again["issue_prevention-expected_version"] == str(case_version(case_id))
    assert again["issue_prevention-idempotency_key"] != sent["issue_prevention-idempotency_key"]
    # completed and sent again as shown, it acts once; the same form sent twice does not act twice
    completed = {**again, "issue_prevention-prevention_items": _ticked(form), "issue_prevention-comment": COMMENT}
    assert client.post(PREVENTION.format(case_id), data=completed).status_code == 302
    assert client.post(PREVENTION.format(case_id), data=completed).status_code == 302
    db.session.rollback()
    stored = db.session.get(Case, case_id)
    assert stored is not None
    assert stored.state == "prevention"
    assert stored.data["prevention_items"] == TICKED
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)).all()
    assert [e.action for e in entries].count("issue_prevention") == 1


def test_a_form_sent_on_a_stale_version_comes_back_ticked_and_typed_and_acts_once_when_sent_again(
    client: FlaskClient,
) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    sent = _prevention(body, case_id)
    _bump(case_id)

    answer = client.post(PREVENTION.format(case_id), data=sent)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    form = _form_of(page, "issue_prevention")
    assert sorted(_ticked(form)) == sorted(TICKED)
    assert html.escape(COMMENT, quote=False) in form
    assert any(m.startswith("El expediente cambió mientras usted preparaba") for m in flashes(answer))
    again = _hidden(page, case_id, "issue_prevention")
    assert again["issue_prevention-expected_version"] == str(case_version(case_id))
    assert again["issue_prevention-idempotency_key"] != sent["issue_prevention-idempotency_key"]
    resent = {**again, "issue_prevention-prevention_items": _ticked(form), "issue_prevention-comment": COMMENT}
    assert client.post(PREVENTION.format(case_id), data=resent).status_code == 302
    replayed = client.post(PREVENTION.format(case_id), data=resent)  # a second click on the same form
    assert replayed.status_code == 302
    assert "Esta acción ya se había registrado; no se repitió." in flashes(client.get(replayed.headers["Location"]))
    stale_again = client.post(PREVENTION.format(case_id), data=sent)  # the first, stale form: it acted on nothing
    assert stale_again.status_code == 409
    db.session.rollback()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)).all()
    assert [e.action for e in entries].count("issue_prevention") == 1


def test_an_optional_comment_sent_back_is_shown_open_with_its_error(client: FlaskClient) -> None:
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    long_comment = "Turnado con observaciones. " * 160  # past the 4,000 characters a comment takes
    data = {**_hidden(body, case_id, "accept_intake"), "accept_intake-comment": long_comment}
    answer = client.post(f"/expedientes/{case_id}/acciones/accept_intake", data=data)
    assert answer.status_code == 422
    form = _form_of(answer.get_data(as_text=True), "accept_intake")
    assert "<details open>" in form  # not folded away behind «Agregar un comentario (opcional)»
    assert "Turnado con observaciones." in form
    assert "Máximo 4000 caracteres." in form
    blank = _form_of(answer.get_data(as_text=True), "issue_prevention")
    assert "<details" not in blank  # the required comment of another step is shown as before


def test_a_conflict_that_left_the_case_as_it_was_keeps_the_form_and_says_to_send_it_again(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent change refused at the database (a serialization failure on PostgreSQL) need not move the
    case: the form comes back as sent, and the page does not tell the person to reload it (which would lose
    what was typed)."""
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    case_id = _intake_case(clerk)
    login_as(client, clerk)
    body = client.get(f"/expedientes/{case_id}").get_data(as_text=True)
    sent = _prevention(body, case_id)

    def concurrent(*_args: object, **_kwargs: object) -> None:
        raise ConflictError(Msg("El expediente cambió mientras lo consultaba; recargue la página e intente de nuevo."))

    monkeypatch.setattr(views, "act", concurrent)
    answer = client.post(PREVENTION.format(case_id), data=sent)
    assert answer.status_code == 409
    form = _form_of(answer.get_data(as_text=True), "issue_prevention")
    assert sorted(_ticked(form)) == sorted(TICKED)
    assert html.escape(COMMENT, quote=False) in form
    assert flashes(answer) == [
        "«Prevenir al solicitante (una sola vez)» no se registró porque otra operación sobre el expediente ocurrió "
        "al mismo tiempo. El formulario conserva lo que escribió y marcó: envíelo de nuevo."
    ]
    again = _hidden(answer.get_data(as_text=True), case_id, "issue_prevention")
    assert again["issue_prevention-expected_version"] == sent["issue_prevention-expected_version"]
    assert again["issue_prevention-idempotency_key"] != sent["issue_prevention-idempotency_key"]
