"""Access requests and publication records acted on at the same moment: each step happens once, or is refused
with a translated message (never a database error), and the log says exactly what happened.

On PostgreSQL units of work run side by side (SQLite runs one writer at a time), so a unit that reads what it
decides on without locking it can act on what another unit is changing. Every thread's flush waits a moment
(:func:`tests.support.concurrency.slow_flushes`) so that all of them have read before any writes: the
interleaving a double click or two officials at once give now and then, here every time. Where a step checks
the case on a read of its own before the transition reads it again, an event in between lets another step
commit there.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

import app.procedures.obligation_publication.services as op
from app.engine import ConflictError, InvalidData, NotFound
from app.extensions import db
from app.models import AuditEntry, Case, Document, EmailConfirmation, Role, User
from app.procedures.access_request import services as ar
from app.procedures.access_request.models import AccessRequest, AreaTurn, CommitteeSession, CommitteeVote
from app.procedures.obligation_publication.models import ObligationPublication
from app.services.cases import FireResult, fire
from app.services.demo import demo_pdf
from app.services.uow import CONFLICT_MESSAGE
from app.services.users import ensure_department
from tests.support.concurrency import assert_log_verifies, logged, race, slow_flushes
from tests.support.factories import case_version, make_user, on_committee_agenda, stored_case

BUDGET_ROW = {
    "capitulo": "1000 Servicios personales",
    "aprobado": "1500000.00",
    "ejercido": "350000",
    "hipervinculo": "",
}


def actions(case_id: int) -> list[str]:
    """The actions the log records for ``case_id``, in order."""
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq))
    )


def assert_conflict(result: object) -> None:
    """What the engine answers a stale version with: reload and try again."""
    assert type(result) is ConflictError, result
    assert str(result) == str(CONFLICT_MESSAGE)


def turned_request(unit: int, *areas: str) -> ar.Filed:
    filed = ar.file_request("Lector", "lector@example.test", "Planos de la obra", "electronic")
    ar.turn_request(filed.case_id, list(areas), unit, expected_version=case_version(filed.case_id))
    return filed


def commit_between_read_and_fire(
    app: Flask, monkeypatch: pytest.MonkeyPatch, module: ModuleType, other: Callable[[], Any], late: Callable[[], Any]
) -> list[Any]:
    """Race ``other`` and ``late`` so that ``other`` runs and commits after ``late`` has read the case and before
    ``late``'s transition (``module.fire``) reads it again; ``other`` starts as soon as ``late`` ends instead if it
    never gets there. Returns [other's result, late's result]."""
    other_may_go, other_done = threading.Event(), threading.Event()
    in_late = threading.local()
    real_fire = module.fire

    def fire(*args: Any, **kwargs: Any) -> Any:
        if getattr(in_late, "yes", False):
            other_may_go.set()
            assert other_done.wait(timeout=30)
        return real_fire(*args, **kwargs)

    monkeypatch.setattr(module, "fire", fire)

    def run_other() -> Any:
        assert other_may_go.wait(timeout=30)
        try:
            return other()
        finally:
            other_done.set()

    def run_late() -> Any:
        in_late.yes = True
        try:
            return late()
        finally:
            other_may_go.set()

    return race(app, [run_other, run_late])


# -- 1. area documents ----------------------------------------------------------------------------


@pytest.mark.parametrize("earlier", [False, True], ids=["first-upload", "replacing"])
def test_two_uploads_of_one_area_at_once_leave_one_current_document_in_a_chain(app: Flask, earlier: bool):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    obras = [make_user((Role.AREA, "obras")) for _ in range(2)]
    filed = turned_request(unit, "obras")
    before = (
        [ar.attach_area_document(filed.case_id, "obras", "respuesta_area", "v0.pdf", demo_pdf("v0"), obras[0])]
        if earlier
        else []
    )

    with slow_flushes():
        results = race(
            app,
            [
                lambda a=a, n=n: ar.attach_area_document(
                    filed.case_id, "obras", "respuesta_area", f"v{n}.pdf", demo_pdf(f"Respuesta {n}"), a
                )
                for n, a in enumerate(obras, start=1)
            ],
        )

    assert all(isinstance(r, int) for r in results), results
    first, second = sorted(results)
    db.session.rollback()
    documents = db.session.scalars(
        select(Document).where(Document.case_id == filed.case_id, Document.kind == "respuesta_area")
    ).all()
    superseded = {d.id: d.superseded_by_id for d in documents}
    chain = [*before, first, second]
    assert superseded == {**dict(itertools.pairwise(chain)), second: None}
    assert [d.id for d in ar.deliverable_documents(filed.case_id)] == [second]
    attached = logged("document_attached", filed.case_id)
    assert [(e["document_id"], e["replaces"]) for e in attached] == list(zip(chain, [None, *chain], strict=False))
    assert_log_verifies()


# -- 2. filing twice with a new address -------------------------------------------------------------


def test_a_double_submit_with_a_new_address_files_two_requests_of_one_requester(app: Flask):
    reference = ar.file_request("Otra Persona", "otra@correo.example", "Presupuesto 2024", "electronic")

    def submit() -> ar.Filed:
        return ar.file_request("Doble Clic", "nuevo@correo.example", "Presupuesto 2025", "electronic")

    with slow_flushes():
        results = race(app, [submit, submit])

    assert all(isinstance(r, ar.Filed) for r in results), results
    db.session.rollback()
    requesters = db.session.scalars(select(User.id).where(User.email == "nuevo@correo.example")).all()
    assert len(requesters) == 1
    filed = {r.case_id: db.session.get(AccessRequest, r.case_id) for r in results}
    assert len(filed) == 2
    assert {r.requester_id for r in filed.values() if r is not None} == set(requesters)
    assert [c.applicant_id for c in db.session.scalars(select(Case).where(Case.id.in_(filed)))] == requesters * 2
    for case_id in filed:  # each filing logged as any filing is
        assert actions(case_id) == actions(reference.case_id)
    for r in results:  # each receipt's link works
        assert ar.requester_view(r.token).status.case_id == r.case_id
    assert_log_verifies()


@pytest.mark.parametrize("with_account", [False, True], ids=["new-address", "account"])
def test_one_filing_form_sent_twice_at_once_files_one_request_and_both_get_its_receipt(app: Flask, with_account: bool):
    account = make_user(Role.APPLICANT) if with_account else None
    before = db.session.scalar(select(func.count()).select_from(EmailConfirmation)) or 0

    def submit() -> ar.Filed:
        return ar.file_request(
            "Doble Clic", "nuevo@correo.example", "Presupuesto 2025", "electronic", account_id=account, key="k" * 32
        )

    with slow_flushes():
        results = race(app, [submit, submit])

    assert all(isinstance(r, ar.Filed) for r in results), results
    assert sorted(r.replayed for r in results) == [False, True]
    assert len({(r.case_id, r.folio, r.token) for r in results}) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 1
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
    confirmations = db.session.scalar(select(func.count()).select_from(EmailConfirmation)) or 0
    assert confirmations - before == (0 if with_account else 1)
    assert ar.requester_view(results[0].token).status.case_id == results[0].case_id
    assert len(logged("open", results[0].case_id)) == 1
    assert len(logged("open")) == 1
    assert_log_verifies()


# -- 3. the committee's resolution twice -------------------------------------------------------------


def test_a_double_click_on_the_committees_resolution_resolves_once_and_tells_the_second(app: Flask):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    chair = make_user(Role.COMMITTEE_MEMBER)
    vocal = make_user(Role.COMMITTEE_MEMBER)
    filed, item = on_committee_agenda(unit, chair)
    votes = {chair: "favor", vocal: "favor"}

    def resolve() -> FireResult:
        return ar.decide_item(item, "confirm", "Se confirma la confidencialidad", chair, votes=votes)

    with slow_flushes():
        results = race(app, [resolve, resolve])

    resolved = [r for r in results if isinstance(r, FireResult)]
    assert len(resolved) == 1, results
    refused = [r for r in results if not isinstance(r, FireResult)]
    assert all(type(r) is InvalidData for r in refused), results
    assert [str(r) for r in refused] == ["El comité ya resolvió este asunto."]
    db.session.rollback()
    assert {(v.member_id, v.vote) for v in db.session.scalars(select(CommitteeVote))} == set(votes.items())
    assert len(logged("committee_resolve", filed.case_id)) == 1
    assert stored_case(filed.case_id).version == resolved[0].version
    assert_log_verifies()


# -- 4. one session number opened twice ---------------------------------------------------------------


def test_one_session_number_opened_at_once_opens_one_session_and_tells_the_others(app: Flask):
    members = [make_user(Role.COMMITTEE_MEMBER) for _ in range(3)]

    with slow_flushes():
        results = race(app, [lambda m=m: ar.open_session("CT-07/2026", date(2026, 11, 20), m) for m in members])

    opened = [r for r in results if isinstance(r, int)]
    assert len(opened) == 1, results
    refused = [r for r in results if not isinstance(r, int)]
    assert all(type(r) is InvalidData for r in refused), results
    assert {str(r) for r in refused} == {"Ya existe una sesión con ese número."}
    db.session.rollback()
    assert db.session.scalars(select(CommitteeSession.id)).all() == opened
    assert [e["session_id"] for e in logged("committee_session_opened")] == opened
    assert_log_verifies()


# -- 5. the tracking link reissued twice -------------------------------------------------------------


def test_tracking_links_reissued_at_once_replace_one_another_in_turn(app: Flask, monkeypatch: pytest.MonkeyPatch):
    applicant = make_user(Role.APPLICANT)
    filed = ar.file_request("Con Cuenta", "", "Actas de cabildo", "electronic", account_id=applicant)
    replaced: list[str] = []
    new_token = ar.new_tracking_token

    def token_replacing_what_was_read() -> str:
        read = db.session.get(AccessRequest, filed.case_id)  # the row this reissue read (already loaded)
        assert read is not None
        replaced.append(read.token_sha256)
        return new_token()

    monkeypatch.setattr(ar, "new_tracking_token", token_replacing_what_was_read)
    with slow_flushes():
        results = race(app, [lambda: ar.reissue_tracking_token(filed.case_id, applicant)] * 2)

    assert all(isinstance(r, str) for r in results), results
    db.session.rollback()
    stored = db.session.get(AccessRequest, filed.case_id)
    assert stored is not None
    (last,) = [t for t in results if ar._token_digest(t) == stored.token_sha256]
    (earlier,) = [t for t in results if t != last]
    # one after the other: the later reissue replaced the earlier one's token, not the filing's a second time
    assert sorted(replaced) == sorted([ar._token_digest(filed.token), ar._token_digest(earlier)])
    assert ar.requester_view(last).status.case_id == filed.case_id
    for gone in (earlier, filed.token):
        with pytest.raises(NotFound):
            ar.requester_view(gone)
    assert_log_verifies()


# -- 6. checks made on a read taken before the transition's ----------------------------------------------


def test_a_turn_added_on_a_stale_read_with_a_later_version_is_refused(app: Flask, monkeypatch: pytest.MonkeyPatch):
    unit = make_user(Role.TRANSPARENCY_UNIT)
    for area in ("obras", "tesoreria", "catastro"):
        make_user((Role.AREA, area))
    filed = turned_request(unit, "obras")
    version = case_version(filed.case_id)

    results = commit_between_read_and_fire(
        app,
        monkeypatch,
        ar,
        lambda: ar.add_turn(filed.case_id, ["tesoreria"], unit, expected_version=version),
        # the version the other turn gives: sent by a client that never saw it
        lambda: ar.add_turn(filed.case_id, ["catastro"], unit, expected_version=version + 1),
    )

    added, late = results
    assert isinstance(added, FireResult), results
    assert added.version == version + 1
    assert_conflict(late)
    assert stored_case(filed.case_id).data["turned_to"] == ["obras", "tesoreria"]
    turns = db.session.scalars(select(AreaTurn.department_code).where(AreaTurn.case_id == filed.case_id))
    assert sorted(turns) == ["obras", "tesoreria"]
    assert [e for e in actions(filed.case_id) if e == "add_turn"] == ["add_turn"]
    assert_log_verifies()


def test_a_draft_kept_from_a_stale_read_with_a_later_version_is_refused(app: Flask, monkeypatch: pytest.MonkeyPatch):
    ensure_department("finanzas", "Finanzas")
    area = make_user((Role.AREA, "finanzas"))
    op.open_quarter(2026, 1, today=date(2026, 4, 1))
    db.session.rollback()
    case_id = db.session.scalars(
        select(Case.id)
        .join(ObligationPublication, ObligationPublication.case_id == Case.id)
        .where(ObligationPublication.format_code == "presupuesto")
    ).one()
    first = op.save_record(case_id, area, rows=[BUDGET_ROW], note="", expected_version=case_version(case_id))
    corrected = [{**BUDGET_ROW, "ejercido": "420000"}]

    results = commit_between_read_and_fire(
        app,
        monkeypatch,
        op,
        lambda: op.save_record(case_id, area, rows=corrected, note="", expected_version=first.version),
        # only the note: the rows are kept from its own read, sent with the version the correction gives
        lambda: op.save_record(
            case_id, area, rows=None, note="Cifras preliminares", expected_version=first.version + 1
        ),
    )

    saved, late = results
    assert isinstance(saved, FireResult), results
    assert saved.version == first.version + 1
    assert_conflict(late)
    case = stored_case(case_id)
    assert case.version == saved.version
    assert case.data["rows"] == corrected
    assert case.data["note"] == ""
    assert [a for a in actions(case_id) if a == "save_draft"] == ["save_draft", "save_draft"]
    assert_log_verifies()


def test_two_members_answering_a_turn_given_on_the_case_page_at_once_answer_it_once(app: Flask):
    """A turn given through the generic case page has no turn row yet: the first answer writes it."""
    unit = make_user(Role.TRANSPARENCY_UNIT)
    ensure_department("obras", "Obras Públicas")
    members = [make_user((Role.AREA, "obras")) for _ in range(2)]
    filed = ar.file_request("Lectora", "lectora@example.test", "Bitácora de la obra", "electronic")
    fire(filed.case_id, "turn", unit, expected_version=case_version(filed.case_id), data={"turned_to": ["obras"]})
    version = case_version(filed.case_id)

    with slow_flushes():
        results = race(
            app,
            [
                lambda m=m: ar.answer_turn(
                    filed.case_id, "obras", ar.AreaAnswer("available"), m, expected_version=version
                )
                for m in members
            ],
        )

    assert sum(isinstance(r, FireResult) for r in results) == 1, results
    for result in results:
        if not isinstance(result, FireResult):
            assert_conflict(result)
    db.session.rollback()
    turns = db.session.scalars(select(AreaTurn).where(AreaTurn.case_id == filed.case_id)).all()
    assert len(turns) == 1
    assert turns[0].answered_by_id in members
    assert actions(filed.case_id).count("answer_turn") == 1
    assert_log_verifies()
