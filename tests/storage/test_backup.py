"""Backup and restore: cases with documents and certificates, backed up, restored into an empty database and
an empty documents directory, after which the log verifies, every document is there with its hash and the
certificates still verify (sello, PDF signature against the restored trust root, inclusion proof)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit import verify
from app.certificates import validate_pdf
from app.extensions import db
from app.keys import trust_root
from app.models import Certificate, Document, Role
from app.services.audit_log import read_kept_checkpoint, sign_checkpoint
from app.services.backup import BackupError, read_manifest
from app.services.certificates import verify_certificate
from app.services.demo import demo_pdf
from app.services.documents import attach_document
from app.storage import get_storage
from tests.certificates.conftest import People, to_licence_review
from tests.storage.test_storage_faults import PEOPLE
from tests.support.factories import advance, make_user, vecs_case


def _documents() -> list[tuple[int, str, str]]:
    return [(d.id, d.kind, d.sha256) for d in db.session.scalars(select(Document).order_by(Document.id))]


def _certificates() -> list[tuple[str, str, str]]:
    return [
        (c.folio, c.verification_code, c.sha256)
        for c in db.session.scalars(select(Certificate).order_by(Certificate.id))
    ]


def _build_cases(app: Flask) -> None:
    people = People(*(make_user(role) for role in PEOPLE))
    first = to_licence_review(people)
    advance(first, [("approve_licence", people.approver, {"licence_number": "LC-2026-0101"}, None)])
    second = vecs_case(people.owner)
    attach_document(second.case_id, "planos", "planos-v2.pdf", demo_pdf("planos corregidos"), people.owner)
    sign_checkpoint(app.config)


def test_backup_and_restore_into_an_empty_database_and_directory(
    app: Flask, empty_database_url: str, tmp_path: Path, backend: str, other_app: Callable[..., Flask]
) -> None:
    app.config["AUDIT_KEPT_CHECKPOINT_FILE"] = str(tmp_path / "kept" / "checkpoint.json")
    _build_cases(app)
    documents, certificates = _documents(), _certificates()
    assert len(documents) >= 7
    assert len(certificates) == 2  # the payment order and the licence
    db.session.rollback()

    created = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert created.exit_code == 0, created.output
    assert f"backup of the {backend} database" in created.output
    manifest = read_manifest(tmp_path / "backup")
    assert manifest["counts"]["documents"] == len(documents)
    assert not list(tmp_path.glob(".backup.partial-*"))

    restored_dir = tmp_path / "restored"
    target = other_app(
        "test",
        SQLALCHEMY_DATABASE_URI=empty_database_url,
        DOCUMENTS_DIR=str(restored_dir / "documents"),
        KEYS_DIR=str(restored_dir / "keys"),
        AUDIT_KEPT_CHECKPOINT_FILE=str(restored_dir / "checkpoint.json"),
        PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
    )
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
        assert restored.exit_code == 0, restored.output
        assert "the audit log verifies and every document is present with its hash" in restored.output

        kept = read_kept_checkpoint(target.config)
        assert kept is not None
        result = verify(db.session(), kept=[kept])
        assert result.ok, result
        assert result.checkpoints_verified >= 1
        assert _documents() == documents
        store = get_storage(restored_dir / "documents")
        for _id, _kind, digest in documents:
            assert hashlib.sha256(store.get(digest)).hexdigest() == digest
        assert _certificates() == certificates
        root = trust_root(target.config)
        for folio, code, digest in certificates:
            verification = verify_certificate(folio, code)
            assert verification is not None
            assert verification.sello_valid
            assert verification.inclusion is not None
            assert verification.inclusion.verified
            pdf = store.get(digest)
            assert validate_pdf(pdf, [root]).valid
        keys = sorted(p.relative_to(restored_dir / "keys") for p in (restored_dir / "keys").rglob("*") if p.is_file())
        source_keys = Path(app.config["KEYS_DIR"])
        assert keys == sorted(p.relative_to(source_keys) for p in source_keys.rglob("*") if p.is_file())
        assert target.test_cli_runner().invoke(args=["storage", "check"]).exit_code == 0

        again = target.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
        assert again.exit_code != 0
        assert "is not empty" in again.output
        db.session.remove()
        db.engine.dispose()


def test_a_damaged_or_incomplete_backup_is_refused(app: Flask, tmp_path: Path) -> None:
    owner = make_user(Role.APPLICANT)
    vecs_case(owner)
    db.session.rollback()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "backup")]).exit_code == 0
    refused = runner.invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert refused.exit_code != 0
    assert "already exists" in refused.output

    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "backup", damaged)
    victim = next(p for p in (damaged / "documents").rglob("*") if p.is_file())
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")
    with pytest.raises(BackupError, match="does not match its SHA-256 in the manifest"):
        read_manifest(damaged)
    victim.unlink()
    with pytest.raises(BackupError, match="missing from the backup"):
        read_manifest(damaged)
    (damaged / "manifest.json").unlink()
    with pytest.raises(BackupError, match=r"holds no manifest\.json"):
        read_manifest(damaged)


def test_a_backup_refuses_a_store_missing_a_named_file(app: Flask, tmp_path: Path) -> None:
    owner = make_user(Role.APPLICANT)
    case = vecs_case(owner, documents=False)
    stored = attach_document(case.case_id, "planos", "planos.pdf", demo_pdf("perdido"), owner)
    get_storage(Path(app.config["DOCUMENTS_DIR"])).path(stored.sha256).unlink()
    db.session.rollback()
    refused = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert refused.exit_code != 0
    assert "missing from the store" in refused.output
    assert not (tmp_path / "backup").exists()
    assert not list(tmp_path.glob(".backup.partial-*"))
