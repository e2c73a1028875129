"""The oversight area (/supervision): read-only, for auditors, the guarantor body and administrators."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from flask.testing import FlaskClient

from app.database import commit_read
from app.extensions import db
from app.models import Role
from app.services.audit_log import sign_checkpoint
from app.services.oversight import CSV_COLUMNS, EntryFilter, bundle, search_entries
from tests.audit.helpers import append_entries, run_verifier, two_checkpoints, write_public_key
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import login_as, set_language, text

COMMENT = "Falta la carta responsiva del DRO; se previene al solicitante."


@pytest.fixture
def world(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path) -> dict[str, object]:
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    other = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    early = sign_checkpoint(app.config)
    case = advance(
        vecs_case(applicant),
        [("submit", applicant, None, None), ("start_intake", clerk, None, COMMENT)],
    )
    late = sign_checkpoint(app.config)
    return {
        "applicant": applicant,
        "auditor": make_user(Role.AUDITOR),
        "case": case,
        "other": other,
        "early": early,
        "late": late,
        "key_file": write_public_key(log_key, tmp_path / "institution.pem"),
        "folder": tmp_path,
    }


def test_only_oversight_roles_get_in_and_nothing_but_get_is_allowed(
    app: Flask, client: FlaskClient, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path
):
    early, late = two_checkpoints(app)
    anonymous = client.get("/supervision/")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    login_as(client, make_user(Role.APPLICANT))
    for path in ("/supervision/", "/supervision/exportar.csv", "/supervision/paquete.jsonl", "/supervision/entradas/1"):
        assert client.get(path).status_code == 403, path
    for role in (Role.GUARANTOR, Role.ADMIN, Role.AUDITOR):
        browser = app.test_client()
        login_as(browser, make_user(role))
        assert browser.get("/supervision/").status_code == 200, role
        assert browser.get("/supervision/entradas/1").status_code == 200, role
        assert browser.get("/api/v1/audit/entries/1").status_code == 200, role  # the same roles in the API
        assert browser.post("/supervision/").status_code in (400, 405)  # read-only: no CSRF token, no such method
    key_file = write_public_key(log_key, tmp_path / "institution.pem")

    # The checkpoints and the keys that signed them are public.
    public = app.test_client()
    page = public.get("/supervision/puntos-de-control")
    assert page.status_code == 200
    fingerprint = late["key_fingerprint"]
    assert fingerprint in text(page)
    assert late["root_hash"] in text(page)
    assert early["root_hash"] in text(page)
    pem = public.get(f"/supervision/llaves/{fingerprint}.pem")
    assert pem.status_code == 200
    assert pem.get_data() == key_file.read_bytes()
    assert public.get(f"/supervision/llaves/{'0' * 64}.pem").status_code == 404


def test_browse_filter_and_export_the_selection(app: Flask, client: FlaskClient, world):
    login_as(client, world["auditor"])
    case = world["case"]
    page = client.get("/supervision/", query_string={"folio": case.folio})
    body = text(page)
    assert page.status_code == 200
    assert case.folio in body
    assert world["other"].folio not in body
    assert "start_intake" in body
    assert COMMENT not in body
    assert f"/supervision/expedientes/{case.case_id}" in body

    bad = client.get("/supervision/", query_string={"desde": "ayer"})
    assert bad.status_code == 400
    assert "AAAA-MM-DD" in text(bad)
    assert client.get("/supervision/exportar.csv", query_string={"caso": "x"}).status_code == 400

    selection = {"folio": case.folio}
    exported = client.get("/supervision/exportar.jsonl", query_string=selection)
    assert exported.status_code == 200
    assert exported.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in exported.get_data(as_text=True).splitlines()]
    assert {line["entry"]["folio"] for line in lines} == {case.folio}
    as_csv = client.get("/supervision/exportar.csv", query_string=selection)
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [int(r["seq"]) for r in rows] == [line["entry"]["seq"] for line in lines]
    assert [json.loads(r["details"]) for r in rows] == [line["entry"]["details"] for line in lines]
    assert [r["leaf_hash"] for r in rows] == [line["leaf_hash"] for line in lines]
    assert [r["at"] for r in rows] == [line["entry"]["at"] for line in lines]
    with_bom = client.get("/supervision/exportar.csv", query_string={**selection, "bom": "1"})
    assert with_bom.get_data() == b"\xef\xbb\xbf" + as_csv.get_data()
    refused = client.get("/supervision/exportar.csv", query_string={**selection, "bom": "x"})
    assert refused.status_code == 400
    assert "El parámetro «bom» acepta 1, sí o true" in text(refused)  # it said only "Solicitud incorrecta"

    by_role = client.get("/supervision/exportar.jsonl", query_string={"rol": "intake_clerk", "accion": "start_intake"})
    assert [json.loads(line)["entry"]["seq"] for line in by_role.get_data(as_text=True).splitlines()] == [
        case.audit_seq
    ]
    long_ago = client.get("/supervision/exportar.jsonl", query_string={"desde": "2000-01-01", "hasta": "2000-01-02"})
    assert long_ago.get_data() == b""
    local_today = datetime.now(ZoneInfo("America/Mexico_City")).date().isoformat()
    today = client.get("/supervision/exportar.jsonl", query_string={"folio": case.folio, "desde": local_today})
    assert len(today.get_data(as_text=True).splitlines()) == len(lines)


def _role_options(page: str) -> list[tuple[str, str, bool]]:
    """The (value, words, selected) options of the log's role filter."""
    select = re.search(r'<select id="rol" name="rol">(.*?)</select>', page, re.S)
    assert select is not None
    return [
        (value, html.unescape(words).strip(), "selected" in attributes)
        for value, attributes, words in re.findall(r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select[1])
    ]


def test_the_role_filter_names_the_roles_and_sends_their_codes(app: Flask, client: FlaskClient, world):
    login_as(client, world["auditor"])
    options = _role_options(client.get("/supervision/", query_string={"rol": "intake_clerk"}).get_data(as_text=True))
    assert [value for value, _, _ in options] == ["", *(role.value for role in Role), "system"]
    words = {value: shown for value, shown, _ in options}
    assert words["intake_clerk"] == "Ventanilla"
    assert words["reviewer"] == "Dictaminador"
    assert words["transparency_unit"] == "Unidad de Transparencia"
    assert words["system"] == "Sistema"
    assert not {value for value in words if value} & set(words.values())  # no option shows its code
    assert [value for value, _, selected in options if selected] == ["intake_clerk"]

    set_language(client, "en", "/supervision/")
    english = {value: shown for value, shown, _ in _role_options(client.get("/supervision/").get_data(as_text=True))}
    assert english["intake_clerk"] == "Intake clerk"
    assert english["reviewer"] == "Reviewer"
    assert english["system"] == "System"


def test_paging_keeps_sequence_order(app: Flask):
    append_entries(11)
    whole = search_entries(EntryFilter(), after=0, limit=1000).entries
    seen: list[int] = []
    page = search_entries(EntryFilter(), after=0, limit=3)
    while True:
        seen += [row.seq for row in page.entries]
        if page.after is None:
            break
        page = search_entries(EntryFilter(), after=page.after, limit=3)
    assert seen == [row.seq for row in whole]
    latest = search_entries(EntryFilter(), limit=3)
    assert [row.seq for row in latest.entries] == seen[-3:]
    assert latest.after is None
    back = search_entries(EntryFilter(), before=latest.before, limit=3)
    assert [row.seq for row in back.entries] == seen[-6:-3]
    assert back.after == seen[-4]


def test_timeline_entry_proofs_and_bundle(app: Flask, client: FlaskClient, world):
    login_as(client, world["auditor"])
    case = world["case"]
    folder: Path = world["folder"]  # type: ignore[assignment]
    timeline = client.get(f"/supervision/expedientes/{case.case_id}")
    assert timeline.status_code == 200
    assert COMMENT in text(timeline)
    assert case.folio in text(timeline)
    assert client.get("/supervision/expedientes/99999").status_code == 404

    entry = client.get(f"/supervision/entradas/{case.audit_seq}")
    assert entry.status_code == 200
    assert '"action": "start_intake"' in text(entry)

    late = world["late"]["tree_size"]
    shown = client.get("/supervision/pruebas/inclusion", query_string={"seq": case.audit_seq, "tree_size": late})
    assert shown.status_code == 200
    assert world["late"]["root_hash"] in text(shown)
    download = client.get(
        "/supervision/pruebas/inclusion", query_string={"seq": case.audit_seq, "tree_size": late, "formato": "json"}
    )
    (folder / "inclusion.json").write_bytes(download.get_data())
    code, output = run_verifier(folder / "inclusion.json", "--public-key", world["key_file"])
    assert code == 0, output
    refused = client.get("/supervision/pruebas/inclusion", query_string={"seq": late + 1})
    assert refused.status_code == 400
    assert "no está cubierta" in text(refused)
    assert client.get("/supervision/pruebas/inclusion").status_code == 200  # the empty form

    early = world["early"]["tree_size"]
    consistency = client.get(
        "/supervision/pruebas/consistencia", query_string={"first": early, "second": late, "formato": "json"}
    )
    (folder / "consistency.json").write_bytes(consistency.get_data())
    code, output = run_verifier(folder / "consistency.json", "--public-key", world["key_file"])
    assert code == 0, output
    assert client.get("/supervision/pruebas/consistencia", query_string={"first": "dos"}).status_code == 400
    # the form sent empty says what is missing (it showed the form again in silence)
    empty = client.get("/supervision/pruebas/consistencia", query_string={"first": "", "second": ""})
    assert empty.status_code == 400
    assert "Indique el tamaño del primer punto de control." in text(empty)
    empty = client.get("/supervision/pruebas/inclusion", query_string={"seq": "", "tree_size": ""})
    assert empty.status_code == 400
    assert "Indique el número de la entrada." in text(empty)

    bundle = client.get("/supervision/paquete.jsonl")
    assert bundle.status_code == 200
    (folder / "bundle.jsonl").write_bytes(bundle.get_data())
    code, output = run_verifier(folder / "bundle.jsonl", "--public-key", world["key_file"])
    assert code == 0, output


def test_the_area_speaks_english_too(app: Flask, client: FlaskClient, log_key: ed25519.Ed25519PrivateKey):
    two_checkpoints(app)
    login_as(client, make_user(Role.AUDITOR))
    set_language(client, "en", "/supervision/")
    page = text(client.get("/supervision/"))
    assert "Audit log" in page
    assert "Bitácora de auditoría" not in page
    assert "Download the audit bundle" in page


@pytest.mark.parametrize("version", [1, 2])
def test_the_bundle_streams_after_its_request_let_the_session_go(
    app: Flask, log_key: ed25519.Ed25519PrivateKey, version: int
):
    """A server streams the bundle after the request ended: its session committed (on PostgreSQL, expiring what
    it had loaded) and was let go. The bundle's first line read the checkpoint only then: on PostgreSQL every
    download of the bundle, on its page and through the API, answered 500."""
    _, late = two_checkpoints(app)
    checkpoint, lines = bundle(version=version)
    commit_read(db.session())
    db.session.remove()
    streamed = "".join(lines).splitlines()
    header = json.loads(streamed[0])
    assert header["checkpoint"] == checkpoint
    assert header["tree_size"] == late["tree_size"]
    assert len(streamed) == 1 + late["tree_size"] + (2 if version == 2 else 0)
    db.session.remove()  # what the streaming's own end does
    assert _connections_out() == 0


def _connections_out() -> int:
    return int(getattr(db.engine.pool, "checkedout", lambda: 0)())


@pytest.mark.parametrize(
    "path",
    [
        "/supervision/paquete.jsonl",
        "/api/v1/audit/bundle",
        "/supervision/paquete.jsonl?formato=2",
        "/api/v1/audit/bundle?format=2",
    ],
)
def test_a_streamed_bundle_gives_its_connection_back_to_the_pool(
    app: Flask, client: FlaskClient, log_key: ed25519.Ed25519PrivateKey, path: str
):
    """Downloads of the bundle, through the page and the API, leave no connection out of the pool once each has
    streamed. (Before the lines took their session when the first was asked for, the one they kept, already let
    go, opened a connection again that only its finalisation gave back: the test above sees it held.)"""
    _, late = two_checkpoints(app)
    login_as(client, make_user(Role.AUDITOR))
    db.session.remove()
    before = _connections_out()
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200
        checkpoint_lines = 2 if "=2" in path else 0  # format 2: the checkpoints at 4 and 7 on lines of their own
        assert len(response.get_data(as_text=True).splitlines()) == 1 + late["tree_size"] + checkpoint_lines
        response.close()
        assert _connections_out() == before
