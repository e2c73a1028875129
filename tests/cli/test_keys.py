"""`flask keys init` creates the development keys once and logs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.keys import KeyMaterialError, load_log_key, load_signing_material, public_fingerprint, trust_root
from app.models import AuditEntry


def test_keys_init_creates_once_and_logs(app: Flask, tmp_path: Path):
    app.config["KEYS_DIR"] = str(tmp_path / "keys")
    with pytest.raises(KeyMaterialError, match="keys init"):
        load_log_key(app.config)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["keys", "init"])
    assert first.exit_code == 0, first.output
    assert "created audit_log" in first.output
    assert "created certificate_signing" in first.output
    second = runner.invoke(args=["keys", "init"])
    assert "already present" in second.output

    log_key = load_log_key(app.config)
    material = load_signing_material(app.config)
    root = trust_root(app.config)
    assert material.certificate.issuer == root.subject
    root.public_key().verify(  # the signing certificate chains to the development root
        material.certificate.signature,
        material.certificate.tbs_certificate_bytes,
        padding.PKCS1v15(),
        material.certificate.signature_hash_algorithm,
    )
    assert (tmp_path / "keys" / "audit_log_ed25519.pem").stat().st_mode & 0o777 == 0o600

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "key_created")).all()
    assert {e.details["purpose"]: e.details["fingerprint"] for e in entries} == {
        "audit_log": public_fingerprint(log_key.public_key()),
        "certificate_signing": public_fingerprint(material.key.public_key()),
    }
