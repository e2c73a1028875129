"""Every route × every role × someone else's object, generated from ``app.url_map``.

The test is data-driven:

- :data:`EXPECTED` says, per (endpoint, method), which roles get through with an object that is **not
  theirs** (another applicant's case, a case of another department, that case's certificate…), and which
  of them may see that object's data in the answer;
- :data:`ARGUMENTS` builds a realistic value for each URL variable (``case_id``, ``certificate_id``…) from
  the world the test sets up; :data:`FORM_DATA` gives the body of the POSTs that need more than a CSRF token.

Each request is sent as a user of every role (and anonymously). Where the table grants access, the answer
must not be a refusal; elsewhere it must be 403 or 404 (a login redirect, or 401 in the API, for visitors),
and the other case's folio and its applicant's name must not appear in it. A route without a row here, or a
view without a declared access rule, fails the test: when a route is added, add its row to ``EXPECTED`` (and
a builder to ``ARGUMENTS`` for any new URL variable, and to ``FORM_DATA`` if its POST needs fields to get
past validation), then regenerate ``docs/permissions.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.cli.permissions import render_matrix
from app.extensions import db
from app.models import AuditEntry, Case, Certificate, Document, NonWorkingDay, OutboxMessage, Role
from app.procedures.access_request.services import file_request
from app.services.case_actions import act
from app.services.cases import fire
from app.services.config import update_config
from app.services.deadlines import declare_non_working_days
from app.web.access import rule_of, undeclared_endpoints
from tests.conftest import IsolatedClient
from tests.support.demo_data import VECS_SETTINGS
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import login_as, page_token, text

ANONYMOUS = "anonymous"
ROLES: tuple[str, ...] = (ANONYMOUS, *(r.value for r in Role))
EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {ANONYMOUS}
OVERSIGHT = frozenset({"auditor", "guarantor"})
LOG_READERS = OVERSIGHT | {"admin"}
CASEWORK = frozenset({"intake_clerk", "reviewer", "inspector", "transparency_unit", "area", "committee_member"})
OTHER_DEPARTMENT = "proteccion_civil"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


@dataclass(frozen=True)
class Expect:
    """Who gets through with someone else's object, and who may see that object's data in the answer
    (default: whoever gets through)."""

    granted: frozenset[str]
    sees: frozenset[str] | None = None

    @property
    def may_see(self) -> frozenset[str]:
        """Roles whose answer may show the other case's folio."""
        return self.granted if self.sees is None else self.sees


def only(*roles: str, sees: frozenset[str] | None = None) -> Expect:
    """Only ``roles`` get through."""
    return Expect(frozenset(roles), sees)


PUBLIC = Expect(EVERYONE)
PUBLIC_BLIND = Expect(EVERYONE, frozenset())  # public, and shows nothing of the other case
ANY_USER_BLIND = Expect(LOGGED_IN, frozenset())  # any logged-in user, their own data only
CASE_READ = Expect(OVERSIGHT)  # someone else's case: oversight reads it, nobody else
CASE_WRITE = Expect(frozenset(), OVERSIGHT)  # someone else's case: nobody changes it; oversight may see it
ADMIN = only("admin")
LOG = Expect(LOG_READERS)
UNIT = frozenset({"transparency_unit"})
PUBLICATION_READERS = frozenset({"area", "auditor", "guarantor", "transparency_unit"})

EXPECTED: dict[tuple[str, str], Expect] = {
    # public pages and machine endpoints
    ("home.root", "GET"): PUBLIC_BLIND,
    ("home.favicon", "GET"): PUBLIC_BLIND,
    ("auth.login", "GET"): PUBLIC_BLIND,
    ("auth.login", "POST"): PUBLIC_BLIND,
    ("auth.logout", "POST"): PUBLIC_BLIND,
    ("auth.language", "POST"): PUBLIC_BLIND,
    ("auth.second_factor", "GET"): PUBLIC_BLIND,
    ("auth.second_factor", "POST"): PUBLIC_BLIND,
    ("auth.enrol", "GET"): PUBLIC_BLIND,
    ("auth.enrol", "POST"): PUBLIC_BLIND,
    ("account.forgot_password", "GET"): PUBLIC_BLIND,
    ("account.forgot_password", "POST"): PUBLIC_BLIND,
    ("account.reset_password", "GET"): PUBLIC_BLIND,
    ("account.reset_password", "POST"): PUBLIC_BLIND,
    ("registration.register", "GET"): PUBLIC_BLIND,
    ("registration.register", "POST"): PUBLIC_BLIND,
    ("registration.confirm_email", "GET"): PUBLIC_BLIND,  # a wrong confirmation token shows nothing
    ("registration.confirm_email", "POST"): PUBLIC_BLIND,
    ("health.healthz", "GET"): PUBLIC_BLIND,
    ("health.readyz", "GET"): PUBLIC_BLIND,
    ("privacy.notice", "GET"): PUBLIC_BLIND,
    ("privacy.short_notice", "GET"): PUBLIC_BLIND,
    ("verification.lookup", "GET"): PUBLIC,
    ("verification.result", "GET"): PUBLIC,  # a certificate's public verification names its folio by design
    ("verification.compare", "POST"): PUBLIC,
    ("verification.inclusion", "GET"): PUBLIC,
    ("lookup.status", "GET"): PUBLIC,  # a filed case's state and legal term by folio, nothing personal
    ("lookup.draws", "GET"): PUBLIC,  # the draws' seed commitments, and the seeds once revealed
    ("oversight.checkpoints", "GET"): PUBLIC_BLIND,
    ("oversight.public_key", "GET"): PUBLIC_BLIND,
    ("api_audit.checkpoints", "GET"): PUBLIC_BLIND,
    ("api_audit.public_keys", "GET"): PUBLIC_BLIND,
    # any logged-in user, about themselves
    ("home.index", "GET"): Expect(LOGGED_IN, UNIT),  # the unit's own queue lists every new request
    ("notices.index", "GET"): ANY_USER_BLIND,
    ("notices.read_all", "POST"): ANY_USER_BLIND,
    ("account.change_password", "GET"): ANY_USER_BLIND,
    ("account.change_password", "POST"): ANY_USER_BLIND,
    ("account.sessions", "GET"): ANY_USER_BLIND,  # one's own sessions only
    ("account.change_email", "GET"): ANY_USER_BLIND,
    ("account.change_email", "POST"): ANY_USER_BLIND,
    ("account.end_sessions", "POST"): ANY_USER_BLIND,
    ("account.second_factor", "GET"): ANY_USER_BLIND,  # one's own second factor only
    ("account.renew_codes", "POST"): ANY_USER_BLIND,
    ("account.change_app", "POST"): ANY_USER_BLIND,
    ("account.enable_factor", "POST"): ANY_USER_BLIND,
    ("account.remove_factor", "POST"): ANY_USER_BLIND,
    ("account.new_app", "GET"): ANY_USER_BLIND,  # the key of a change begun in this browser only
    ("account.new_app", "POST"): ANY_USER_BLIND,
    # staff who work on cases: their queue never lists someone else's department's case
    ("queue.index", "GET"): Expect(CASEWORK, UNIT),
    # the treasury: payment orders awaiting payment (the world's case is past payment: it shows none of it)
    ("treasury.index", "GET"): only("treasury"),
    ("treasury.confirm", "POST"): only("treasury"),
    ("treasury.upload", "POST"): only("treasury"),
    # applicants filing their own requests
    ("construction.index", "GET"): only("applicant", sees=frozenset()),
    ("home.own_cases", "GET"): only("applicant", sees=frozenset()),  # one's own cases only
    ("construction.short_eligibility", "GET"): only("applicant", sees=frozenset()),
    ("construction.eligibility", "GET"): only("applicant", sees=frozenset()),
    ("construction.eligibility", "POST"): only("applicant", sees=frozenset()),
    ("construction.start", "POST"): only("applicant", sees=frozenset()),
    # someone else's case, its files and certificates
    ("cases.show", "GET"): CASE_READ,
    ("cases.view_document", "GET"): CASE_READ,
    ("documents.index", "GET"): CASE_READ,
    ("documents.download", "GET"): CASE_READ,
    ("cases.fire_trigger", "POST"): CASE_WRITE,
    ("cases.edit_step", "GET"): CASE_WRITE,
    ("cases.edit_step", "POST"): CASE_WRITE,
    ("cases.upload", "POST"): CASE_WRITE,
    ("assignment.recuse_case", "POST"): CASE_WRITE,
    # administration: users, calendars, settings, mail, assignment (folios and assignees, no case data)
    ("admin.calendar", "GET"): ADMIN,
    ("admin.calendar", "POST"): ADMIN,
    ("admin.remove_day", "POST"): ADMIN,
    ("admin.mail", "GET"): ADMIN,
    ("admin.retry_mail", "POST"): ADMIN,
    ("admin_settings.index", "GET"): ADMIN,
    ("admin_settings.edit", "GET"): ADMIN,
    ("admin_settings.edit", "POST"): ADMIN,
    ("admin_departments.index", "GET"): ADMIN,
    ("admin_departments.index", "POST"): ADMIN,
    ("admin_departments.rename", "POST"): ADMIN,
    ("admin_departments.delete", "POST"): ADMIN,
    ("admin_departments.ensure", "POST"): ADMIN,
    ("admin_users.index", "GET"): ADMIN,
    ("admin_users.show", "GET"): ADMIN,
    ("admin_users.create", "POST"): ADMIN,
    ("admin_users.grant", "POST"): ADMIN,  # each act asks for what it changes: an empty form changes nothing
    ("admin_users.revoke", "POST"): ADMIN,
    ("admin_users.end_sessions", "POST"): ADMIN,
    ("admin_users.deactivate", "POST"): ADMIN,
    ("admin_users.reset_second_factor", "POST"): ADMIN,
    ("admin_users.send_link", "POST"): ADMIN,
    ("assignment.index", "GET"): ADMIN,
    ("assignment.reassign_case", "POST"): ADMIN,
    ("account.security_events", "GET"): ADMIN,
    ("personal_data.index", "GET"): ADMIN,
    ("personal_data.index", "POST"): ADMIN,
    ("personal_data.show", "GET"): ADMIN,
    ("personal_data.resolve", "POST"): ADMIN,
    ("personal_data.download", "GET"): ADMIN,
    # the audit log: oversight bodies and the administrators who run it
    ("oversight.index", "GET"): LOG,
    ("oversight.entry", "GET"): LOG,
    ("oversight.timeline", "GET"): LOG,
    ("oversight.export_selection_csv", "GET"): LOG,
    ("oversight.export_selection_jsonl", "GET"): LOG,
    ("oversight.download_bundle", "GET"): LOG,
    ("oversight.inclusion", "GET"): LOG,
    ("oversight.consistency", "GET"): LOG,
    ("api_audit.entries", "GET"): LOG,
    ("api_audit.entry", "GET"): LOG,
    ("api_audit.inclusion", "GET"): LOG,
    ("api_audit.consistency", "GET"): LOG,
    ("api_audit.audit_bundle", "GET"): LOG,
    # access-to-information requests: someone else's request (filed under a pseudonym) is the object;
    # the transparency unit handles every request, oversight reads it, areas and the committee only what
    # is turned or brought to them
    ("transparency.file_request", "GET"): PUBLIC_BLIND,
    ("transparency.file_request", "POST"): PUBLIC_BLIND,
    ("transparency.lookup", "GET"): PUBLIC_BLIND,
    ("transparency.tracking", "GET"): PUBLIC_BLIND,  # a wrong tracking token shows nothing
    ("transparency.requester_step", "POST"): PUBLIC_BLIND,
    ("transparency.requester_pleadings", "POST"): PUBLIC_BLIND,  # a wrong tracking token: not found
    # someone else's file or certificate with a wrong tracking token: not found, for everyone
    ("transparency.requester_document", "GET"): Expect(frozenset()),
    ("transparency.requester_certificate", "GET"): Expect(frozenset()),
    ("transparency.own_request", "GET"): Expect(frozenset()),  # another requester's request: refused
    ("transparency.own_request", "POST"): Expect(frozenset()),
    ("transparency.case", "GET"): Expect(UNIT | OVERSIGHT),
    ("transparency.unit_queue", "GET"): Expect(UNIT | {"auditor"}),
    ("transparency.turn", "POST"): Expect(UNIT),
    ("transparency.add_turn", "POST"): Expect(UNIT),
    ("transparency.withdraw_turn", "POST"): Expect(UNIT),
    ("transparency.public_source", "POST"): Expect(UNIT),
    ("transparency.unit_step", "POST"): Expect(UNIT),
    ("transparency.to_committee", "POST"): Expect(UNIT),
    ("transparency.deliver", "POST"): Expect(UNIT),
    ("transparency.unit_pleadings", "POST"): Expect(UNIT),
    ("transparency.area_queue", "GET"): Expect(frozenset({"area"}), frozenset()),
    ("transparency.answer", "POST"): Expect(frozenset()),  # not turned to this area
    ("transparency.area_document", "POST"): Expect(frozenset()),
    ("transparency.sessions", "GET"): Expect(UNIT | {"committee_member"}, frozenset()),
    ("transparency.sessions", "POST"): Expect(UNIT | {"committee_member"}, frozenset()),
    ("transparency.session", "GET"): Expect(UNIT | {"committee_member"}, frozenset()),
    ("transparency.decide", "POST"): Expect(frozenset({"committee_member"}), frozenset()),
    ("transparency.guarantor_queue", "GET"): Expect(frozenset({"guarantor"}), frozenset()),
    ("transparency.guarantor_step", "POST"): Expect(frozenset({"guarantor"})),
    # transparency-obligation publications (the object here is a case of another workflow: refused or 404)
    ("publications.public_index", "GET"): PUBLIC_BLIND,
    ("publications.open_data_csv_view", "GET"): PUBLIC_BLIND,
    ("publications.open_data_json_view", "GET"): PUBLIC_BLIND,
    ("publications.public_sampling_view", "GET"): PUBLIC_BLIND,
    ("publications.public_attachment", "GET"): PUBLIC_BLIND,
    ("publications.staff_index", "GET"): Expect(PUBLICATION_READERS, frozenset()),
    ("publications.show", "GET"): Expect(PUBLICATION_READERS, frozenset()),
    ("publications.staff_attachment", "GET"): Expect(PUBLICATION_READERS, frozenset()),
    ("publications.act_on", "POST"): Expect(frozenset({"guarantor", "transparency_unit"}), frozenset()),
    ("publications.attach", "POST"): Expect(frozenset({"area"}), frozenset()),
    ("publications.refresh", "POST"): Expect(frozenset({"area"}), frozenset()),
    ("publications.save", "POST"): Expect(frozenset({"area"}), frozenset()),
    ("publications.sample", "GET"): Expect(frozenset({"guarantor"}), frozenset()),
    ("publications.sample", "POST"): Expect(frozenset({"guarantor"}), frozenset()),
}


@dataclass
class World:
    """Someone else's objects, and one user per role to whom none of them belongs."""

    case_id: int
    folio: str
    owner_name: str
    document_id: int
    certificate_id: int
    seq: int
    message_id: int
    day_id: int
    request_case_id: int
    own_case_id: int
    request_folio: str
    requester_name: str
    users: dict[str, int] = field(default_factory=dict)

    @property
    def markers(self) -> tuple[str, ...]:
        """Texts that only someone allowed to see the other objects may get back."""
        return (self.folio, self.owner_name, self.request_folio, self.requester_name)


ARGUMENTS: dict[str, Callable[[World], Any]] = {
    "case_id": lambda w: w.case_id,
    "document_id": lambda w: w.document_id,
    "certificate_id": lambda w: w.certificate_id,
    "trigger": lambda w: "revoke",
    "step": lambda w: "predio",
    "kind": lambda w: "planos",
    "seq": lambda w: w.seq,
    "message_id": lambda w: w.message_id,
    "day_id": lambda w: w.day_id,
    "name": lambda w: "vecs",
    "folio": lambda w: w.folio,
    "fingerprint": lambda w: "0" * 64,
    "request_id": lambda w: 1,
    "token": lambda w: "x" * 43,
    "session_id": lambda w: 1,
    "item_id": lambda w: 1,
    "matter": lambda w: "clasificacion",
    "department": lambda w: OTHER_DEPARTMENT,
    "action": lambda w: "aclarar",
    "code": lambda w: "licencias",
    "sha256": lambda w: "0" * 64,
    "user_id": lambda w: w.users["reviewer"],
}

ENDPOINT_ARGUMENTS: dict[str, dict[str, Callable[[World], Any]]] = {
    "transparency.": {"case_id": lambda w: w.request_case_id},
}
"""Per endpoint prefix, builders that replace those of :data:`ARGUMENTS` (the object those pages are about)."""


def arguments_for(endpoint: str, names: frozenset[str] | set[str], world: World) -> dict[str, Any]:
    """The URL values of ``endpoint``, pointing at someone else's objects."""
    builders = dict(ARGUMENTS)
    for prefix, overrides in ENDPOINT_ARGUMENTS.items():
        if endpoint.startswith(prefix):
            builders.update(overrides)
    return {name: builders[name](world) for name in names}


FORM_DATA: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("cases.fire_trigger", "POST"): lambda w: {  # the action forms prefix their inputs with the trigger
        "revoke-expected_version": str(db.session.get(Case, w.case_id).version),  # type: ignore[union-attr]
        "revoke-idempotency_key": uuid.uuid4().hex,
        "revoke-comment": "Revocación de prueba",
    },
    ("assignment.recuse_case", "POST"): lambda w: {"reason": "Conflicto de interés declarado"},
}

RELOGIN_AFTER = {"auth.logout", "auth.login"}


def _routes(app: Flask) -> list[tuple[str, str, Rule]]:
    """(endpoint, method, URL rule) of every route but static files."""
    found = []
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint == "static" or url_rule.endpoint.endswith(".static"):
            continue
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((url_rule.endpoint, method, url_rule))
    return sorted(found, key=lambda item: (item[0], item[1], item[2].rule))


def table_problems(app: Flask) -> list[str]:
    """What is wrong between the routes of ``app`` and :data:`EXPECTED` (empty when they agree)."""
    problems = [f"{endpoint}: the view declares no access rule" for endpoint in undeclared_endpoints(app)]
    listed = _routes(app)
    routes = {(endpoint, method) for endpoint, method, _ in listed}
    problems += [f"{e} {m}: no row in EXPECTED" for e, m in sorted(routes - EXPECTED.keys())]
    problems += [f"{e} {m}: row for a route that does not exist" for e, m in sorted(EXPECTED.keys() - routes)]
    for (endpoint, method), expect in sorted(EXPECTED.items()):
        if (endpoint, method) not in routes:
            continue
        rule = rule_of(app.view_functions[endpoint])
        if rule is None:
            continue
        if rule.kind != "public" and ANONYMOUS in expect.granted:
            problems.append(f"{endpoint} {method}: the table lets visitors in, the view requires a login")
        if rule.roles is not None:
            allowed = {r.value for r in rule.roles}
            if not expect.granted <= allowed:
                problems.append(
                    f"{endpoint} {method}: the table grants {sorted(expect.granted - allowed)} beyond the rule"
                )
    for endpoint, _, url_rule in listed:
        for variable in sorted(url_rule.arguments - ARGUMENTS.keys()):
            problems.append(f"{endpoint}: no builder in ARGUMENTS for the URL variable {variable!r}")
    return problems


def test_every_route_has_a_rule_and_a_row(app: Flask) -> None:
    assert table_problems(app) == []


def test_a_route_without_a_rule_is_refused_and_fails_the_table(app: Flask) -> None:
    app.add_url_rule("/sin-regla", "sin_regla", lambda: "contenido secreto")
    assert undeclared_endpoints(app) == ["sin_regla"]
    assert "sin_regla: the view declares no access rule" in table_problems(app)
    assert "sin_regla GET: no row in EXPECTED" in table_problems(app)
    client = app.test_client()
    answer = client.get("/sin-regla")
    assert answer.status_code == 403
    assert "contenido secreto" not in answer.get_data(as_text=True)


def test_the_permission_document_is_up_to_date(app: Flask) -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_matrix(app), (
        "docs/permissions.md is out of date: run `flask --app wsgi permissions matrix --write docs/permissions.md`"
    )


def test_the_command_writes_and_checks_the_document(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    target = tmp_path / "permissions.md"
    stale = runner.invoke(args=["permissions", "matrix", "--check", str(target)])
    assert stale.exit_code != 0
    assert "out of date" in stale.output
    assert runner.invoke(args=["permissions", "matrix", "--write", str(target)]).exit_code == 0
    assert runner.invoke(args=["permissions", "matrix", "--check", str(target)]).exit_code == 0
    text_ = target.read_text(encoding="utf-8")
    assert "| `approve_licence` | `licensed` | reviewer | assignee only (when assigned); four eyes with" in text_


# -- the generated test ------------------------------------------------------------------------------


def _as_assignee(case_id: int) -> int:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert case.assignee_id is not None, "the draw assigned nobody"
    return case.assignee_id


def build_world() -> World:
    """A licensed VECS case of one applicant, worked by staff of its departments, and one user per role who
    has nothing to do with it (the applicant has their own draft; staff belong to another department)."""
    admin = make_user(Role.ADMIN)
    for role, department in (
        (Role.INTAKE_CLERK, "ventanilla"),
        (Role.REVIEWER, "desarrollo_urbano"),
        (Role.REVIEWER, "desarrollo_urbano"),
        (Role.REVIEWER, "finanzas"),
        (Role.INSPECTOR, "obras_publicas"),
    ):
        make_user((role, department))
    update_config("vecs", {"departments": VECS_SETTINGS["departments"], "fee_table": VECS_SETTINGS["fee_table"]}, admin)
    owner_name = "Aurelia Confidencial Mendoza"
    owner = make_user(Role.APPLICANT, name=owner_name)
    case = vecs_case(owner)
    case = advance(case, [("submit", owner, None, None)])
    case = fire(case.case_id, "start_intake", _as_assignee(case.case_id), expected_version=case.version)
    case = fire(case.case_id, "accept_intake", _as_assignee(case.case_id), expected_version=case.version)
    case = fire(
        case.case_id,
        "rule_land_use",
        _as_assignee(case.case_id),
        expected_version=case.version,
        data={"land_use_ruling": "Compatible con H3-C"},
    )
    case = act(
        case.case_id,
        "assess_fees",
        _as_assignee(case.case_id),
        expected_version=case.version,
        idempotency_key=uuid.uuid4().hex,
    )
    case = advance(case, [("confirm_payment", None, None, None)])
    case = fire(case.case_id, "approve_licence", _as_assignee(case.case_id), expected_version=case.version)
    assert case.to_state == "licensed"
    declare_non_working_days(*_holiday(admin))
    db.session.rollback()
    users = {
        "applicant": make_user(Role.APPLICANT),
        "intake_clerk": make_user((Role.INTAKE_CLERK, OTHER_DEPARTMENT)),
        "reviewer": make_user((Role.REVIEWER, OTHER_DEPARTMENT)),
        "inspector": make_user((Role.INSPECTOR, OTHER_DEPARTMENT)),
        "transparency_unit": make_user(Role.TRANSPARENCY_UNIT),
        "area": make_user((Role.AREA, OTHER_DEPARTMENT)),
        "committee_member": make_user(Role.COMMITTEE_MEMBER),
        "auditor": make_user(Role.AUDITOR),
        "guarantor": make_user(Role.GUARANTOR),
        "admin": admin,
        "treasury": make_user(Role.TREASURY),
    }
    own = vecs_case(users["applicant"], documents=False)  # the other applicant has a case of their own
    requester_name = "Requirente Reservado Quintana"
    filed = file_request(requester_name, "requirente@example.test", "Padrón de licencias de construcción", "electronic")
    db.session.rollback()
    return World(
        case_id=case.case_id,
        folio=case.folio,
        owner_name=owner_name,
        document_id=db.session.scalars(select(Document.id).where(Document.case_id == case.case_id)).first() or 0,
        certificate_id=db.session.scalars(
            select(Certificate.id).where(Certificate.case_id == case.case_id, Certificate.kind != "payment_order")
        ).one(),
        seq=db.session.scalars(select(AuditEntry.seq).where(AuditEntry.case_id == case.case_id)).first() or 0,
        message_id=db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.recipient_id == owner)).first() or 0,
        day_id=db.session.scalars(select(NonWorkingDay.id)).first() or 0,
        request_case_id=filed.case_id,
        own_case_id=own.case_id,
        request_folio=filed.folio,
        requester_name=requester_name,
        users=users,
    )


def _holiday(admin: int) -> tuple[Any, ...]:
    return (date(2027, 4, 1), date(2027, 4, 1), "Semana Santa", "Gaceta Municipal 2027-03-15", admin)


def _refused(status: int, response: TestResponse, role: str) -> bool:
    if role == ANONYMOUS:
        location = response.headers.get("Location", "")
        if status in (301, 302, 303) and "/login" in location:
            return True
        if status == 401:
            return True
    return status in (403, 404)


def _client(app: Flask, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role != ANONYMOUS:
        login_as(client, world.users[role])
    return client


def test_every_route_every_role_someone_elses_object(app: Flask) -> None:
    world = build_world()
    app.test_client_class = IsolatedClient
    clients = {role: _client(app, world, role) for role in ROLES}
    tokens = {role: page_token(client, "/verificar", "/language") for role, client in clients.items()}
    failures: list[str] = []
    for endpoint, method, url_rule in _routes(app):
        expect = EXPECTED.get((endpoint, method))
        if expect is None or url_rule.arguments - ARGUMENTS.keys():
            failures.append(f"{method} {url_rule.rule}: no row in EXPECTED or no builder for its variables")
            continue
        values = arguments_for(endpoint, url_rule.arguments, world)
        with app.test_request_context():
            url = url_for(endpoint, **values)
        for role in ROLES:
            client = clients[role]
            if method == "GET":
                response = client.get(url)
            else:
                extra = FORM_DATA.get((endpoint, method), lambda w: {})(world)
                data = {"csrf_token": tokens[role], "revoke-csrf_token": tokens[role], **extra}
                response = client.open(url, method=method, data=data)
            status = response.status_code
            body = text(response) if response.mimetype and "pdf" not in response.mimetype else ""
            where = f"{method} {url} as {role}: {status}"
            if status >= 500:
                failures.append(f"{where}: server error")
            elif role in expect.granted:
                if status in (401, 403):  # (a public page may still send visitors to the login page)
                    failures.append(f"{where}: refused, but the matrix grants it")
            elif not _refused(status, response, role):
                failures.append(f"{where}: granted, but the matrix refuses it")
            if role not in expect.may_see and any(marker in body for marker in world.markers):
                failures.append(f"{where}: the other case's data leaked into the answer")
            if endpoint in RELOGIN_AFTER or (endpoint == "account.change_password" and method == "POST"):
                clients[role] = _client(app, world, role)
                tokens[role] = page_token(clients[role], "/verificar", "/language")
    # someone else's file or certificate reached through one's own case: not found, and nothing of it shown
    for url in (
        f"/expedientes/{world.own_case_id}/documentos/{world.certificate_id}.pdf",
        f"/expedientes/{world.own_case_id}/archivos/{world.document_id}",
    ):
        response = clients["applicant"].get(url)
        if response.status_code != 404 or any(m in text(response) for m in world.markers):
            failures.append(f"GET {url} as the owner of that case: {response.status_code}")
    assert not failures, "\n".join(failures)
