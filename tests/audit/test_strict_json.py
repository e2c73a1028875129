"""Both verifiers refuse JSON that different readers could understand differently: duplicate keys, NaN and
infinities, integers beyond 2^53, a byte-order mark, lone surrogates, and (in bundles) entry lines that are
not in canonical form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import text

from app.audit import verify
from app.audit.canonical import strict_loads
from app.extensions import db
from app.services.audit_log import sign_checkpoint
from tests.audit.helpers import append_entries, run_verifier, write_public_key
from tests.audit.test_verifier_robustness import make_bundle, write_bundle
from tests.support.tamper import raw_write

AMBIGUOUS = {
    "duplicate key": b'{"a": 1, "a": 2}',
    "nested duplicate key": b'{"a": {"b": 1, "b": 1}}',
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": -Infinity}',
    "overflowing number": b'{"a": 1e400}',
    "integer beyond 2^53": b'{"a": 9007199254740993}',
    "byte-order mark": b'\xef\xbb\xbf{"a": 1}',
    "lone surrogate": b'{"a": "\\ud800"}',
    "invalid UTF-8": b'{"a": "\xff"}',
}


@pytest.mark.parametrize("name", list(AMBIGUOUS))
def test_the_strict_parser_refuses_ambiguous_json(name: str):
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the case
        strict_loads(AMBIGUOUS[name])
    assert strict_loads(b'{"a": [1, 2.5, "\\u00f1", null], "b": {"c": 9007199254740991}}')["b"]["c"] == 2**53 - 1


def _entry_line_variants() -> dict[str, str]:
    """Entry 3 of a bundle written in ways that parse to the same object, or that a reader may see differently."""
    _header, lines = make_bundle()
    line = lines[2]
    canonical = json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body = canonical[len('{"chain_hash":') :]
    return {
        "duplicate member with another value": canonical[:-2] + ',"action":"approve_licence"}}',
        "duplicate top-level key": '{"chain_hash":"' + "0" * 64 + '",' + canonical[1:],
        "spaces": json.dumps(line, ensure_ascii=False, sort_keys=True),
        "escaped characters": json.dumps(line, ensure_ascii=True, sort_keys=True, separators=(",", ":")),
        "unsorted keys": json.dumps(line, ensure_ascii=False, separators=(",", ":")),
        "byte-order mark": "\ufeff" + canonical,
        "number form": canonical.replace('"case_version":3', '"case_version":3.0'),
        "exponent": canonical.replace('"case_version":3', '"case_version":3e0'),
        "huge integer": canonical.replace('"case_id":1', '"case_id":9007199254740993'),
        "NaN": canonical.replace('"case_id":1', '"case_id":NaN'),
        "key order trick": '{"chain_hash":' + body,
    }


@pytest.mark.parametrize("variant", list(_entry_line_variants()))
def test_the_standalone_verifier_refuses_non_canonical_entry_lines(tmp_path: Path, variant: str):
    from tests.audit.helpers import public_pem
    from tests.audit.test_verifier_robustness import KEY

    key_file = tmp_path / "institution.pem"
    key_file.write_bytes(public_pem(KEY))
    header, lines = make_bundle()
    path = write_bundle(tmp_path / "b.jsonl", header, lines)
    code, output = run_verifier(path, "--public-key", key_file)
    assert code == 0, output
    text_lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    text_lines[3] = _entry_line_variants()[variant] + "\n"
    path.write_text("".join(text_lines), encoding="utf-8")
    code, output = run_verifier(path, "--public-key", key_file)
    if variant == "key order trick":  # the same bytes as the canonical line: still verifies
        assert code == 0, output
        return
    assert code == 1, output
    # "3.0" is already canonical (Python writes it so): it is refused because its hash differs.
    expected = "entry 3: its contents" if variant == "number form" else "entry 3 is damaged"
    assert output.startswith(f"FAILED at entry 3: {expected}"), output


@pytest.mark.parametrize("name", ["duplicate key", "NaN", "integer beyond 2^53", "byte-order mark"])
def test_the_standalone_verifier_refuses_an_ambiguous_header_or_kept_checkpoint(tmp_path: Path, name: str):
    from tests.audit.helpers import public_pem
    from tests.audit.test_verifier_robustness import KEY

    key_file = tmp_path / "institution.pem"
    key_file.write_bytes(public_pem(KEY))
    header, lines = make_bundle()
    bundle = write_bundle(tmp_path / "b.jsonl", header, lines)
    kept = tmp_path / "kept.json"
    kept.write_bytes(_ambiguous_checkpoint(header["checkpoint"], name))
    code, output = run_verifier(bundle, "--public-key", key_file, "--trusted-checkpoint", kept)
    assert code == 2, output
    assert output.startswith("CANNOT VERIFY:"), output
    raw = bundle.read_bytes()
    first, rest = raw.split(b"\n", 1)
    bundle.write_bytes(_ambiguous_header(first, name) + b"\n" + rest)
    code, output = run_verifier(bundle, "--public-key", key_file)
    assert code == 2, output


def _ambiguous_checkpoint(checkpoint: dict[str, object], name: str) -> bytes:
    good = json.dumps(checkpoint).encode()
    return {
        "duplicate key": good[:-1] + b', "tree_size": 4}',
        "NaN": good[:-1] + b', "extra": NaN}',
        "integer beyond 2^53": good[:-1] + b', "extra": 18446744073709551617}',
        "byte-order mark": b"\xef\xbb\xbf" + good,
    }[name]


def _ambiguous_header(first: bytes, name: str) -> bytes:
    return {
        "duplicate key": first[:-1] + b', "format": "tramites-audit-bundle/1"}',
        "NaN": first[:-1] + b', "extra": NaN}',
        "integer beyond 2^53": first[:-1] + b', "extra": 18446744073709551617}',
        "byte-order mark": b"\xef\xbb\xbf" + first,
    }[name]


def test_the_live_verifier_refuses_stored_details_with_duplicate_keys(app: Flask):
    append_entries(3)
    stored = db.session.scalar(text("SELECT CAST(details AS TEXT) FROM audit_entries WHERE seq = 2"))
    db.session.rollback()
    assert verify(db.session()).ok
    db.session.rollback()
    # Same parsed value for Python (the last duplicate wins), so every stored hash still matches.
    doubled = '{"n": 99, ' + stored.lstrip()[1:]
    with raw_write() as conn:
        conn.execute(text("UPDATE audit_entries SET details = :d WHERE seq = 2"), {"d": doubled})
    result = verify(db.session())
    db.session.rollback()
    assert not result.ok
    assert result.first_bad == 2
    assert "duplicate key 'n'" in (result.reason or "")


@pytest.mark.parametrize("name", ["duplicate key", "NaN", "byte-order mark"])
def test_audit_verify_refuses_an_ambiguous_kept_checkpoint(app: Flask, log_key, tmp_path: Path, name: str):
    append_entries(3)
    checkpoint = sign_checkpoint(app.config)
    kept = tmp_path / "kept.json"
    kept.write_bytes(_ambiguous_checkpoint(checkpoint, name))
    result: Result = app.test_cli_runner().invoke(
        args=[
            "audit",
            "verify",
            "--public-key",
            str(write_public_key(log_key, tmp_path / "k.pem")),
            "--trusted-checkpoint",
            str(kept),
        ]
    )
    assert result.exit_code == 2, result.output
    assert "not a checkpoint" in result.output
