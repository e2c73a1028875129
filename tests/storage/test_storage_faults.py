"""Storage faults: a full disk, a failing transaction or a killed upload never leaves a row naming a missing
file, nor a file under a document's name with other bytes; ``flask storage check`` finds what is left."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import audit as audit_package
from app.audit import verify
from app.engine import StorageUnavailable
from app.extensions import db
from app.models import Case, Certificate, Document, Role
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.services.storage_check import check_storage
from app.storage import TEMP_PREFIX, LocalStorage, get_storage
from app.storage import local as local_storage
from tests.certificates.conftest import People, to_licence_review
from tests.support.factories import advance, make_user, vecs_case

PEOPLE = (
    Role.APPLICANT,
    Role.APPLICANT,
    (Role.INTAKE_CLERK, "ventanilla"),
    (Role.REVIEWER, "desarrollo_urbano"),
    (Role.REVIEWER, "desarrollo_urbano"),
    (Role.INSPECTOR, "obras_publicas"),
    Role.AUDITOR,
)

ROOT = Path(__file__).resolve().parents[2]


class Injected(RuntimeError):
    """The failure these tests inject."""


def _store(app: Flask) -> LocalStorage:
    return get_storage(Path(app.config["DOCUMENTS_DIR"]))


def _files(app: Flask) -> list[str]:
    root = Path(app.config["DOCUMENTS_DIR"])
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _documents(case_id: int) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(Document).where(Document.case_id == case_id)) or 0)


def _full_disk_after(half: bool):
    def write_all(fd: int, content: bytes) -> None:
        if half:
            os.write(fd, content[: len(content) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write_all


@pytest.mark.parametrize("half", [False, True], ids=["nothing-written", "half-written"])
def test_full_disk_refuses_the_upload_and_leaves_nothing(app: Flask, monkeypatch: pytest.MonkeyPatch, half: bool):
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    content = demo_pdf("disco lleno")
    monkeypatch.setattr(local_storage, "write_all", _full_disk_after(half))
    with pytest.raises(StorageUnavailable) as refused:
        attach_document(case.case_id, "planos", "planos.pdf", content, owner)
    assert "No se pudo guardar el archivo" in str(refused.value)
    assert _documents(case.case_id) == 0
    assert db.session.get(Case, case.case_id).version == case.version
    assert _files(app) == []  # not even the temporary file
    monkeypatch.undo()
    stored = attach_document(case.case_id, "planos", "planos.pdf", content, owner)
    assert _store(app).get(stored.sha256) == content
    report = check_storage()
    assert report.ok
    assert (report.files, report.rows) == (1, 1)
    assert verify(db.session()).ok


def test_full_disk_while_issuing_a_certificate_rolls_the_transition_back(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate's PDF is stored inside the transition's transaction: the case stays where it was."""
    people = People(*(make_user(role) for role in PEOPLE))
    ready = to_licence_review(people)
    monkeypatch.setattr(local_storage, "write_all", _full_disk_after(True))
    with pytest.raises(StorageUnavailable):
        advance(ready, [("approve_licence", people.approver, {"licence_number": "LC-2026-0001"}, None)])
    db.session.rollback()
    after = db.session.get(Case, ready.case_id)
    assert (after.state, after.version) == (ready.to_state, ready.version)
    licences = select(func.count()).select_from(Certificate).where(Certificate.kind == "licence")
    assert db.session.scalar(licences) == 0  # the payment order issued earlier stays
    assert check_storage().ok
    monkeypatch.undo()
    advance(ready, [("approve_licence", people.approver, {"licence_number": "LC-2026-0001"}, None)])
    assert db.session.scalar(licences) == 1
    assert check_storage().ok
    assert verify(db.session()).ok


def test_a_failure_after_the_file_is_in_place_removes_the_file(app: Flask, monkeypatch: pytest.MonkeyPatch):
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    content = demo_pdf("falla después")

    def failing_append(*_args: object, **_kwargs: object) -> None:
        assert _store(app).get(local_hash(content)) == content  # the file was in place before the row
        raise Injected

    monkeypatch.setattr(audit_package, "append", failing_append)
    with pytest.raises(Injected):
        attach_document(case.case_id, "planos", "planos.pdf", content, owner)
    assert _documents(case.case_id) == 0
    assert _files(app) == []
    assert check_storage().ok


def local_hash(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def test_a_failed_upload_keeps_the_same_bytes_another_case_already_stored(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_user(Role.APPLICANT)
    first = vecs_case(owner, documents=False)
    second = vecs_case(owner, documents=False)
    content = demo_pdf("compartido")
    attach_document(first.case_id, "planos", "planos.pdf", content, owner)
    with monkeypatch.context() as patched:
        patched.setattr(audit_package, "append", lambda *_a, **_k: (_ for _ in ()).throw(Injected()))
        with pytest.raises(Injected):
            attach_document(second.case_id, "planos", "planos.pdf", content, owner)
    assert _store(app).get(local_hash(content)) == content
    report = check_storage()
    assert report.ok, report


def test_discard_keeps_a_file_that_another_upload_claimed(tmp_path: Path):
    store = LocalStorage(tmp_path / "documents")
    content = b"%PDF-1.7 same bytes"
    mine = store.store(content)
    assert mine.created is not None
    time.sleep(0.01)
    theirs = store.store(content)  # the same content uploaded meanwhile: it claims the file in place
    assert theirs.created is None
    assert store.discard(mine) is False
    assert store.get(mine.key) == content
    again = store.store(b"%PDF-1.7 other bytes")
    assert store.discard(again) is True
    with pytest.raises(FileNotFoundError):
        store.get(again.key)
    assert [f.name for f in store.files()] == [mine.key]


def test_a_damaged_copy_is_repaired_by_the_next_upload_of_its_bytes(app: Flask):
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    content = demo_pdf("reparado")
    stored = attach_document(case.case_id, "planos", "planos.pdf", content, owner)
    path = _store(app).path(stored.sha256)
    path.write_bytes(b"rotten")
    assert [ref.row_id for ref in check_storage().damaged] == [stored.document_id]
    other = vecs_case(owner, documents=False)
    attach_document(other.case_id, "planos", "planos.pdf", content, owner)
    assert path.read_bytes() == content
    assert check_storage().ok


def test_storage_check_command_reports_and_cleans(app: Flask):
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    kept = attach_document(case.case_id, "planos", "planos.pdf", demo_pdf("bien"), owner)
    lost = attach_document(case.case_id, "memoria_estructural", "m.pdf", demo_pdf("perdido"), owner)
    rotten = attach_document(case.case_id, "propiedad", "t.pdf", demo_pdf("dañado"), owner)
    store = _store(app)
    store.path(lost.sha256).unlink()
    store.path(rotten.sha256).write_bytes(b"%PDF-1.7 otra cosa")
    orphan, _ = store.put(b"%PDF-1.7 huerfano")
    leftover = store.path(orphan).parent / f"{TEMP_PREFIX}interrupted"
    leftover.write_bytes(b"%PDF-1.7 a medio escribir")
    # written at the instant the test runs at: the check compares the files' times with the clock, which the
    # suite may have moved (TEST_CLOCK), and the file system would stamp them with the machine's
    written = time.time_ns()
    for path in (store.path(orphan), leftover):
        os.utime(path, ns=(written, written))
    runner = app.test_cli_runner()

    found = runner.invoke(args=["storage", "check"])
    assert found.exit_code == 1, found.output
    assert f"missing: documents {lost.document_id} names {lost.sha256}" in found.output
    assert f"damaged: documents {rotten.document_id}" in found.output
    assert f"orphan: {store.path(orphan)}" in found.output
    assert f"leftover: {leftover}" in found.output
    assert "1 missing, 1 damaged, 1 orphans, 1 leftovers, 0 removed" in found.output
    assert kept.sha256 not in found.output

    young = runner.invoke(args=["storage", "check", "--delete-orphans"])
    assert young.exit_code == 1
    assert "kept (younger than 3600 s)" in young.output
    assert store.path(orphan).exists()

    cleaned = runner.invoke(args=["storage", "check", "--delete-orphans", "--grace", "0"])
    assert cleaned.exit_code == 1  # the missing and the damaged file still need the backup
    assert "removed orphan" in cleaned.output
    assert "removed leftover" in cleaned.output
    assert not store.path(orphan).exists()
    assert not leftover.exists()

    store.path(lost.sha256).write_bytes(demo_pdf("perdido"))
    store.path(rotten.sha256).write_bytes(demo_pdf("dañado"))
    clean = runner.invoke(args=["storage", "check"])
    assert clean.exit_code == 0, clean.output
    assert "4 files, 4 rows: 0 missing, 0 damaged, 0 orphans, 0 leftovers, 0 removed" not in clean.output
    assert "3 files, 3 rows: 0 missing, 0 damaged, 0 orphans, 0 leftovers, 0 removed" in clean.output


CHILD = """
import os, sys, time
from app import create_app
from app.storage import local
import app.services.documents as documents

url, folder, case_id, owner, where, marker = sys.argv[1:7]


def stop_here():
    open(marker, "w").close()
    time.sleep(600)


if where == "writing":
    def write_all(fd, content):
        os.write(fd, content[: len(content) // 2])
        stop_here()
    local.write_all = write_all
else:
    real = documents.log_attached
    def log_attached(*args, **kwargs):
        real(*args, **kwargs)
        from app.extensions import db
        db.session.flush()
        stop_here()
    documents.log_attached = log_attached

application = create_app("test", SQLALCHEMY_DATABASE_URI=url, DOCUMENTS_DIR=folder)
with application.app_context():
    documents.attach_document(int(case_id), "planos", "planos.pdf", documents.check_pdf and
        __import__("app.services.demo", fromlist=["demo_pdf"]).demo_pdf("matado"), int(owner))
"""


@pytest.mark.parametrize("where", ["writing", "committing"])
def test_an_upload_killed_midway_leaves_no_row_and_only_removable_files(
    app: Flask, database_url: str, tmp_path: Path, where: str
) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    db.session.commit()
    marker = tmp_path / "reached"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            database_url,
            app.config["DOCUMENTS_DIR"],
            str(case.case_id),
            str(owner),
            where,
            str(marker),
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the upload never reached the point: {process.communicate()[0]!r}")
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    assert _documents(case.case_id) == 0
    assert db.session.get(Case, case.case_id).version == case.version
    report = check_storage(grace_seconds=0)
    assert not report.missing
    assert not report.damaged
    if where == "writing":
        assert len(report.leftovers) == 1
        assert report.leftovers[0].name.startswith(TEMP_PREFIX)
        assert not report.orphans
    else:
        assert len(report.orphans) == 1
        assert not report.leftovers
    cleaned = check_storage(delete_orphans=True, grace_seconds=0)
    assert cleaned.ok
    assert _files(app) == []
    # the applicant simply uploads again
    attach_document(case.case_id, "planos", "planos.pdf", demo_pdf("matado"), owner)
    assert check_storage().ok
    assert verify(db.session()).ok


def test_a_full_disk_on_the_upload_page_is_a_clear_refusal(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Spanish and English, no error page, nothing stored; the same upload works once there is room."""
    from tests.web.helpers import flashes, login_as, set_language
    from tests.web.test_construction_pages import upload

    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    login_as(client, owner)
    monkeypatch.setattr(local_storage, "write_all", _full_disk_after(True))
    refused = upload(client, case.case_id, "planos", "planos.pdf", demo_pdf("sin espacio"))
    assert refused.status_code == 422, refused.headers.get("Location")
    assert any(message.startswith("No se pudo guardar el archivo") for message in flashes(refused))
    set_language(client, "en", path=f"/expedientes/{case.case_id}")
    refused = upload(client, case.case_id, "planos", "planos.pdf", demo_pdf("sin espacio"))
    assert any(message.startswith("The file could not be saved") for message in flashes(refused))
    assert _documents(case.case_id) == 0
    assert _files(app) == []
    monkeypatch.undo()
    assert upload(client, case.case_id, "planos", "planos.pdf", demo_pdf("sin espacio")).status_code == 302
    assert _documents(case.case_id) == 1
    assert check_storage().ok
