"""Data digests in entries are keyed with a deployment secret and bound to their entry: a guessed text cannot be
confirmed without the key, identical data in different entries gives unrelated digests, and old (unkeyed)
entries stay verifiable."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from flask import Flask
from sqlalchemy import insert, select, text

from app import audit
from app.audit import EntryInput
from app.audit.canonical import (
    DIGEST_SCHEME,
    GENESIS_HASH,
    canonical_json,
    chain_hash,
    digest_key,
    entry_data_digest,
    entry_fields,
    leaf_hash_hex,
)
from app.extensions import db
from app.models import AuditEntry, AuditKind, utcnow
from app.services.uow import unit_of_work
from tests.support.tamper import raw_write

REQUEST = {"descripcion": "Copia del contrato de recolección de basura 2025", "modalidad": "electronica"}


def _append(data: dict[str, str]) -> AuditEntry:
    with unit_of_work() as session:
        entry = audit.append(
            session,
            EntryInput(
                kind=AuditKind.ADMIN,
                action="test_event",
                actor_id=None,
                actor_role="system",
                data_digest=audit.data_digest(data),
            ),
        )
        session.flush()
        seq = entry.seq
    return db.session.get(AuditEntry, seq)  # type: ignore[return-value]


def test_a_guessed_text_cannot_be_confirmed_without_the_key(app: Flask):
    entry = _append(REQUEST)
    plain = hashlib.sha256(canonical_json(REQUEST)).hexdigest()
    assert entry.data_digest != plain
    assert entry.data_digest not in {plain, hmac.new(b"", canonical_json(REQUEST), hashlib.sha256).hexdigest()}
    # The institution, holding the key, reproduces it exactly.
    inner = hmac.new(digest_key(), canonical_json(REQUEST), hashlib.sha256).hexdigest()
    bound = hmac.new(digest_key(), canonical_json({"data_digest": inner, "seq": entry.seq}), hashlib.sha256)
    assert entry.data_digest == bound.hexdigest()
    assert entry.details["digest_scheme"] == DIGEST_SCHEME == 2


def test_identical_data_in_different_entries_is_not_linkable(app: Flask):
    first, second = _append(REQUEST), _append(REQUEST)
    assert first.data_digest != second.data_digest


def test_the_key_is_the_deployment_secret(app: Flask):
    derived = digest_key()
    app.config["AUDIT_DIGEST_KEY"] = "una-llave-de-despliegue-suficientemente-larga"
    assert digest_key() == b"una-llave-de-despliegue-suficientemente-larga" != derived
    assert entry_data_digest("ab" * 32, 5) != entry_data_digest("ab" * 32, 5, derived)
    app.config["AUDIT_DIGEST_KEY"] = ""
    app.config["SECRET_KEY"] = "another-secret-key-of-the-deployment-0123456789"
    assert digest_key() != derived


def test_old_unkeyed_entries_stay_verifiable(app: Flask):
    """An entry written before keyed digests (plain SHA-256, no digest_scheme) still verifies among new ones."""
    _append(REQUEST)
    head_seq, head_hash = db.session.execute(text("SELECT seq, hash FROM audit_head")).one()
    db.session.rollback()
    assert head_seq == 1
    # A scheme-1 entry as the earlier version wrote it, then a keyed one.
    values = {
        "seq": 2,
        "at": utcnow(),
        "kind": AuditKind.ADMIN,
        "case_id": None,
        "folio": None,
        "workflow": None,
        "workflow_version": None,
        "action": "test_event",
        "from_state": None,
        "to_state": None,
        "actor_id": None,
        "actor_role": "system",
        "case_version": None,
        "comment": None,
        "comment_salt": None,
        "comment_digest": None,
        "data_digest": hashlib.sha256(canonical_json(REQUEST)).hexdigest(),
        "documents_digest": None,
        "details": {},
    }
    canonical = canonical_json(entry_fields(values))
    entry_hash = chain_hash(head_hash, canonical)
    from app.audit import tree

    with raw_write() as conn:
        conn.execute(
            insert(AuditEntry.__table__).values(
                **values, prev_hash=head_hash, entry_hash=entry_hash, leaf_hash=leaf_hash_hex(canonical)
            )
        )
        conn.execute(text("UPDATE audit_head SET seq = 2, hash = :h"), {"h": entry_hash})
    with unit_of_work() as session:
        tree.add_leaf(session, 2, bytes.fromhex(leaf_hash_hex(canonical)))
    _append(REQUEST)
    result = audit.verify(db.session())
    db.session.rollback()
    assert result.ok, result.problems
    assert result.checked == 3
    digests = list(db.session.scalars(select(AuditEntry.data_digest).order_by(AuditEntry.seq)))
    assert len(set(digests)) == 3
    assert GENESIS_HASH not in digests


@pytest.mark.parametrize("data", [{}, None])
def test_no_data_no_digest(app: Flask, data: dict[str, str] | None):
    assert audit.data_digest(data or {}) is None
