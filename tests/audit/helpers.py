"""Helpers for the audit-log tests: the standalone verifier as a module, log keys, quick entries, bundles."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from flask import Flask

from app import audit
from app.audit import EntryInput
from app.keys import generate_log_key, log_key_path
from app.models import AuditKind
from app.services.oversight import write_bundle
from app.services.uow import unit_of_work

ROOT = Path(__file__).resolve().parents[2]
VERIFIER_PATH = ROOT / "verifier" / "verify_bundle.py"


def load_verifier() -> ModuleType:
    """``verifier/verify_bundle.py`` imported as a module (it is a standalone script, not a package)."""
    name = "verify_bundle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, VERIFIER_PATH)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


verifier = load_verifier()


def install_log_key(app: Flask, folder: Path) -> ed25519.Ed25519PrivateKey:
    """Point the app at ``folder`` for keys and write a fresh audit-log key there."""
    app.config["KEYS_DIR"] = str(folder)
    key = generate_log_key()
    path = log_key_path(app.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def public_pem(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> bytes:
    """The PEM of a key's public half."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_public_key(key: ed25519.Ed25519PrivateKey, path: Path) -> Path:
    """Save the public half of ``key`` as PEM at ``path`` (what an auditor keeps)."""
    path.write_bytes(public_pem(key))
    return path


def append_entries(count: int, *, action: str = "test_event", comment: str | None = None) -> None:
    """Append ``count`` administrative entries in one transaction (no users needed)."""
    with unit_of_work() as session:
        for number in range(count):
            audit.append(
                session,
                EntryInput(
                    kind=AuditKind.ADMIN,
                    action=action,
                    actor_id=None,
                    actor_role="system",
                    comment=comment,
                    details={"n": number, "texto": "año señal ✓"},
                ),
            )


def two_checkpoints(app: Flask) -> tuple[dict[str, Any], dict[str, Any]]:
    """A small log (7 entries, no users) with checkpoints at sizes 4 and 7."""
    from app.services.audit_log import sign_checkpoint

    append_entries(4)
    early = sign_checkpoint(app.config)
    append_entries(3)
    return early, sign_checkpoint(app.config)


def bundle_file(folder: Path, tree_size: int | None = None, name: str = "bundle.jsonl", version: int = 1) -> Path:
    """Export the bundle of a checkpoint to a file in format ``version``, as `flask audit bundle` does."""
    path = folder / name
    write_bundle(path, tree_size, version)
    return path


def run_verifier(*args: str | Path) -> tuple[int, str]:
    """Run the standalone verifier's command line in-process; returns (exit status, output)."""
    out = io.StringIO()
    code = verifier.main([str(a) for a in args], out=out)
    return code, out.getvalue()
