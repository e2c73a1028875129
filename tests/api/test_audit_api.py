"""``/api/v1/audit``: public checkpoints, oversight-only entries, proofs and bundles, clear 400s."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask
from flask.testing import FlaskClient

from app.models import Role
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import run_verifier, two_checkpoints, write_public_key
from tests.support.factories import advance, make_user, vecs_case
from tests.web.helpers import login_as


@pytest.fixture
def world(app: Flask, log_key: ed25519.Ed25519PrivateKey, tmp_path: Path) -> dict[str, object]:
    """Two cases moving, one checkpoint before the second case and one after."""
    applicant = make_user(Role.APPLICANT)
    clerk = make_user((Role.INTAKE_CLERK, "ventanilla"))
    first = advance(vecs_case(applicant), [("submit", applicant, None, None)])
    early = sign_checkpoint(app.config)
    second = advance(vecs_case(applicant), [("submit", applicant, None, None), ("start_intake", clerk, None, None)])
    late = sign_checkpoint(app.config)
    return {
        "applicant": applicant,
        "auditor": make_user(Role.AUDITOR),
        "first": first,
        "second": second,
        "early": early,
        "late": late,
        "key_file": write_public_key(log_key, tmp_path / "institution.pem"),
        "folder": tmp_path,
    }


@pytest.fixture
def small_log(app: Flask, log_key: ed25519.Ed25519PrivateKey) -> dict[str, object]:
    """Seven entries, checkpoints at 4 and 7, no users."""
    early, late = two_checkpoints(app)
    return {"early": early, "late": late}


def test_checkpoints_and_keys_are_public(client: FlaskClient, small_log):
    world = small_log
    answer = client.get("/api/v1/audit/checkpoints")
    assert answer.status_code == 200
    listed = answer.get_json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == [world["late"]["tree_size"], world["early"]["tree_size"]]
    older = client.get("/api/v1/audit/checkpoints", query_string={"before": listed[0]["id"], "limit": 1}).get_json()
    assert [c["id"] for c in older["checkpoints"]] == [listed[1]["id"]]
    keys = client.get("/api/v1/audit/public-keys").get_json()["public_keys"]
    assert [k["fingerprint"] for k in keys] == [world["late"]["key_fingerprint"]]
    assert client.get("/api/v1/audit/checkpoints?limit=abc").status_code == 400
    assert client.post("/api/v1/audit/checkpoints").status_code == 405


PROTECTED = (
    "/api/v1/audit/entries",
    "/api/v1/audit/entries/1",
    "/api/v1/audit/proofs/inclusion?seq=1",
    "/api/v1/audit/proofs/consistency?first=1",
    "/api/v1/audit/bundle",
)


def test_everything_else_is_for_oversight_roles_only(app: Flask, client: FlaskClient, small_log):
    for path in PROTECTED:
        anonymous = client.get(path)
        assert anonymous.status_code == 401, path
        assert anonymous.get_json()["status"] == 401
    login_as(client, make_user(Role.APPLICANT))
    for path in PROTECTED:
        denied = client.get(path)
        assert denied.status_code == 403, path
        assert denied.is_json


def test_an_auditor_reads_entries_proofs_and_bundles_that_verify_offline(client: FlaskClient, world):
    # (guarantors and administrators: tests/audit/test_oversight_web.py checks their access to both areas)
    login_as(client, world["auditor"])
    folder: Path = world["folder"]  # type: ignore[assignment]
    key_file = world["key_file"]
    late = world["late"]["tree_size"]

    # Filtering by folio and trigger, paging by sequence number.
    second = world["second"]
    page = client.get("/api/v1/audit/entries", query_string={"folio": second.folio.lower()}).get_json()
    assert {e["entry"]["folio"] for e in page["entries"]} == {second.folio}
    assert [e["entry"]["action"] for e in page["entries"]][-2:] == ["submit", "start_intake"]
    intake = client.get("/api/v1/audit/entries", query_string={"trigger": "start_intake", "role": "intake_clerk"})
    assert [e["seq"] for e in intake.get_json()["entries"]] == [second.audit_seq]
    first_two = client.get("/api/v1/audit/entries", query_string={"after": 0, "limit": 2}).get_json()
    assert [e["seq"] for e in first_two["entries"]] == [1, 2]
    assert first_two["after"] == 2

    entry = client.get(f"/api/v1/audit/entries/{second.audit_seq}").get_json()
    assert entry["entry"]["to_state"] == second.to_state
    assert len(entry["leaf_hash"]) == 64
    assert "comment" not in json.dumps(entry["entry"]).replace("comment_digest", "")

    proof = client.get("/api/v1/audit/proofs/inclusion", query_string={"seq": 3, "tree_size": late}).get_json()
    (folder / "inclusion.json").write_text(json.dumps(proof))
    code, output = run_verifier(folder / "inclusion.json", "--public-key", key_file)
    assert code == 0, output
    default = client.get("/api/v1/audit/proofs/inclusion", query_string={"seq": 3}).get_json()
    assert default["tree_size"] == late

    consistency = client.get(
        "/api/v1/audit/proofs/consistency", query_string={"first": world["early"]["tree_size"], "second": late}
    ).get_json()
    (folder / "consistency.json").write_text(json.dumps(consistency))
    code, output = run_verifier(folder / "consistency.json", "--public-key", key_file)
    assert code == 0, output

    bundle = client.get("/api/v1/audit/bundle")
    assert bundle.status_code == 200
    assert bundle.mimetype == "application/x-ndjson"
    assert f"bitacora-{late}.jsonl" in bundle.headers["Content-Disposition"]
    (folder / "bundle.jsonl").write_bytes(bundle.get_data())
    (folder / "kept.json").write_text(json.dumps(world["early"]))
    code, output = run_verifier(
        folder / "bundle.jsonl", "--public-key", key_file, "--trusted-checkpoint", folder / "kept.json"
    )
    assert code == 0, output
    older = client.get("/api/v1/audit/bundle", query_string={"tree_size": world["early"]["tree_size"]})
    assert older.get_data().count(b"\n") == world["early"]["tree_size"] + 1


BAD_PARAMETERS = (
    ("/api/v1/audit/entries/abc", "seq"),
    ("/api/v1/audit/entries/0", "seq"),
    ("/api/v1/audit/entries/99999999999999999999", "seq"),
    ("/api/v1/audit/entries?after=-1", "after"),
    ("/api/v1/audit/entries?limit=100000", "limit"),
    ("/api/v1/audit/entries?from=2026-13-01", "desde"),
    ("/api/v1/audit/entries?from=2026-05-02&to=2026-05-01", "posterior"),
    ("/api/v1/audit/entries?kind=otro", "tipo"),
    ("/api/v1/audit/entries?case=%00", "caso"),
    ("/api/v1/audit/entries?folio=" + "x" * 200, "folio"),
    ("/api/v1/audit/proofs/inclusion", "seq"),
    ("/api/v1/audit/proofs/inclusion?seq=1&tree_size=2", "tamaño 2"),
    ("/api/v1/audit/proofs/inclusion?seq=1e3", "seq"),
    ("/api/v1/audit/proofs/inclusion?seq=٣", "seq"),
    ("/api/v1/audit/proofs/inclusion?seq=500", "no está cubierta"),
    ("/api/v1/audit/proofs/consistency?first=1&second=2", "tamaño"),
    ("/api/v1/audit/proofs/consistency?first=%ff%fe", "first"),
    ("/api/v1/audit/bundle?tree_size=-5", "tree_size"),
)


def test_bad_parameters_are_400_with_a_clear_message(client: FlaskClient, small_log):
    world = small_log
    login_as(client, make_user(Role.AUDITOR))
    for path, fragment in BAD_PARAMETERS:
        answer = client.get(path)
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        body = answer.get_json()
        assert body["status"] == 400
        assert fragment in body["detail"], (path, body)
    late, early = world["late"]["tree_size"], world["early"]["tree_size"]
    backwards = client.get("/api/v1/audit/proofs/consistency", query_string={"first": late, "second": early})
    assert backwards.status_code == 400
    assert "mayor" in backwards.get_json()["detail"]
    missing = client.get("/api/v1/audit/entries/100000")
    assert missing.status_code == 404
    assert missing.is_json
    english = client.get("/api/v1/audit/entries/abc", headers={"Accept-Language": "en"})
    assert english.status_code == 400
