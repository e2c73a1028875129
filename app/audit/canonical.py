"""The canonical byte form of an audit entry and the digests that keep personal data out of it.

Canonical form: the fields below as a JSON object with sorted keys, no insignificant white space,
UTF-8 (non-ASCII characters written as themselves), instants in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.
The chain hash of entry *n* is ``SHA-256(bytes.fromhex(hash[n-1]) ‖ canonical(entry n))`` with
``hash[0]`` = 64 zeros; the Merkle leaf hash is ``SHA-256(0x00 ‖ canonical(entry n))`` (RFC 9162).
The full specification, for auditors writing their own verifier, is ``docs/audit-log.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from flask import current_app

from app.models import AuditEntry

GENESIS_HASH = "0" * 64
DIGEST_SCHEME = 2
"""Version of the data digests in new entries (``details["digest_scheme"]``): 2 is HMAC-SHA256 keyed with the
deployment's ``AUDIT_DIGEST_KEY``. Entries without the member (scheme 1) hold unsalted SHA-256 digests."""

CANONICAL_FIELDS = (
    "seq",
    "at",
    "kind",
    "case_id",
    "folio",
    "workflow",
    "workflow_version",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "actor_role",
    "case_version",
    "comment_digest",
    "data_digest",
    "documents_digest",
    "details",
)


# One encoder for every call: json.dumps with options builds a new encoder each time.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> bytes:
    """Sorted-key, compact, UTF-8 JSON; the one serialisation every digest here uses."""
    return _ENCODER.encode(value).encode()


# The verifier's fast path (``app.audit.verification``) writes an entry's canonical form with a few calls instead
# of a dictionary, a sort and a new writer: the entry's values, in the order of the sorted names, are written by
# the same C writer with the same options in one call, with a separator that JSON text cannot hold unescaped
# between them; the output is split at it, and the pieces are put in a template that holds the names. Every value
# comes out exactly as ``canonical_json`` writes it inside the object.

SORTED_FIELDS = tuple(sorted(CANONICAL_FIELDS))
"""The canonical fields in the order the canonical form writes them (sorted names)."""

ENTRY_TEMPLATE = "{" + ",".join(f'"{name}":%s' for name in SORTED_FIELDS) + "}"
"""An entry's canonical form with ``%s`` for the JSON text of each value, in ``SORTED_FIELDS`` order."""

_SEPARATOR = "\x1f"
"""A control character: inside a JSON string it is always escaped (``\\u001f``) and no number or literal holds it,
so in the writer's output it can only be the separator between values."""


def _json_writer(item_separator: str) -> Callable[[Any], str]:
    """``_ENCODER``'s writer (sorted keys, ``":"``, UTF-8 strings, no NaN) with ``item_separator`` between items.

    The C writer itself, made once, when the interpreter has it (``JSONEncoder.encode`` makes a new one per call);
    without the circular-reference check, which values read from JSON text or a database row never need.
    """
    try:
        from json.encoder import c_make_encoder  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - CPython always has it
        c_make_encoder = None
    if c_make_encoder is None:  # pragma: no cover
        return json.JSONEncoder(
            sort_keys=True, separators=(item_separator, ":"), ensure_ascii=False, allow_nan=False
        ).encode
    make = c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", item_separator, True, False, False)
    join = "".join
    return lambda value: join(make(value, 0))


_write_values = _json_writer(_SEPARATOR)
_write_compact = _json_writer(",")


def json_values(values: Sequence[Any]) -> list[str]:
    """The JSON text of each of ``values`` as ``canonical_json`` writes it inside an object or array, in one call.

    Raises ``TypeError`` or ``ValueError`` where ``canonical_json`` would (a value JSON cannot hold). The result
    has one item per value when every value is a string, a number, a boolean or ``None``; a list or an object
    among them adds items, so callers compare the lengths.
    """
    return _write_values(values)[1:-1].split(_SEPARATOR) if values else []


def canonical_details(text: str | bytes) -> str:
    """The canonical JSON text of an entry's stored details: read by :func:`strict_loads` (raising ``ValueError`` as
    it does) and written as :func:`canonical_entry` writes them (``dict(details or {})``). Raises ``TypeError``
    when they are something else than a JSON object or a false value (the general way then decides)."""
    value = strict_loads(text)
    if not value:
        return "{}"
    if type(value) is not dict:
        raise TypeError("the details are not a JSON object")
    return _write_compact(value)


MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON reader holds exactly (IEEE 754 doubles); larger ones may be read differently."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find the repeated name for the message
        seen: set[str] = set()
        for name, _value in pairs:
            if name in seen:
                raise ValueError(f"duplicate key {name[:40]!r}")
            seen.add(name)
    return result


_LONG_DIGITS = re.compile(r"[0-9]{16}")
"""Sixteen digits in a row: the text may hold an integer beyond ±(2^53 - 1) (which has at least sixteen)."""


def strict_loads(data: str | bytes) -> Any:
    """Parse JSON refusing what different readers could understand differently.

    Refused: a byte-order mark, invalid UTF-8, duplicate keys in an object (readers keep the first, the
    last or both), ``NaN`` and infinities, integers beyond ±(2^53 - 1), numbers that overflow to infinity
    lone surrogate escapes and nesting deeper than ``MAX_NESTING``. Raises ``ValueError`` naming the problem.

    The text is read by the C reader with only the object hook; the walk over the parsed value (strings,
    nesting, integers) runs only when the text could hold what it looks for: a ``\\u`` escape or a character
    beyond ASCII, sixteen digits in a row, or more brackets than the nesting bound (the audit verifier parses
    every entry's details, so this is on its hot path).
    """
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            raise ValueError("a byte-order mark is not allowed")
        data = data.decode("utf-8")
    if data.startswith("\ufeff"):
        raise ValueError("a byte-order mark is not allowed")
    # JSONDecoder.decode's steps, without its two Python frames (the verifier reads every entry's details)
    try:
        value, end = _scan_once(data, _whitespace(data, 0).end())
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", data, err.value) from None
    except RecursionError:  # the reader's nesting bound: an answer about the input, not a crash
        raise ValueError("arrays or objects nested too deeply") from None
    end = _whitespace(data, end).end()
    if end != len(data):
        raise json.JSONDecodeError("Extra data", data, end)
    if (
        "\\u" in data
        or not data.isascii()
        or _LONG_DIGITS.search(data) is not None
        or (len(data) > MAX_NESTING and data.count("[") + data.count("{") > MAX_NESTING)
    ):
        _check_values(value)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} overflows")
    return value


# One strict decoder for every call (json.loads with options builds a new decoder each time).
_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_object, parse_constant=_refuse_constant, parse_float=_finite_float
)
_scan_once = _STRICT_DECODER.scan_once  # type: ignore[attr-defined]
_whitespace = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]

MAX_NESTING = 256
"""Deepest nesting of arrays and objects accepted: far beyond any entry's details, and far below the depth at
which Python's JSON reader or writer would run out of stack (a value read near that limit could not be
written back in canonical form)."""


def _check_values(value: Any) -> None:
    """Strings encodable as UTF-8 (no lone surrogate), nesting within ``MAX_NESTING``, integers within
    ±(2^53 - 1)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # a lone surrogate escape cannot be encoded: UnicodeEncodeError is a ValueError
        elif isinstance(item, int) and not isinstance(item, bool):
            if abs(item) > MAX_SAFE_INTEGER:
                raise ValueError(f"the integer {str(item)[:40]} is too large to be read the same way everywhere")
        elif isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                raise ValueError(f"arrays or objects nested deeper than {MAX_NESTING} levels")
            if isinstance(item, dict):
                for name, member in item.items():
                    name.encode("utf-8")
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)


def format_instant(at: datetime) -> str:
    """An aware datetime as a UTC timestamp with microseconds and a ``Z`` suffix."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_fields(values: AuditEntry | Mapping[Any, Any]) -> dict[str, Any]:
    """The JSON object of an entry's canonical form, from a model instance or a row mapping.

    This object is what bundles and exports carry as ``entry``; :func:`canonical_json` of it is
    the hashed byte form.
    """
    if isinstance(values, AuditEntry):
        fields: dict[str, Any] = {name: getattr(values, name) for name in CANONICAL_FIELDS}
    else:
        fields = {name: values[name] for name in CANONICAL_FIELDS}
    fields["at"] = format_instant(fields["at"])
    fields["kind"] = str(fields["kind"])
    fields["details"] = dict(fields["details"] or {})
    return fields


def canonical_entry(entry: AuditEntry | Mapping[Any, Any]) -> bytes:
    """The bytes that the chain and the Merkle tree hash for ``entry`` (a model or a row mapping)."""
    return canonical_json(entry_fields(entry))


def leaf_hash_hex(canonical: bytes) -> str:
    """RFC 9162 leaf hash of a canonical entry, as hex."""
    return hashlib.sha256(b"\x00" + canonical).hexdigest()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """SHA-256 of the previous hash (raw bytes) followed by the canonical entry, as hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def new_salt() -> str:
    """A random salt for a comment digest."""
    return secrets.token_hex(16)


def salted_digest(salt: str, text: str) -> str:
    """SHA-256(salt ‖ text) as hex: proves the text without putting it in the hashed form."""
    return hashlib.sha256(bytes.fromhex(salt) + text.encode()).hexdigest()


def digest_key(config: Mapping[str, Any] | None = None) -> bytes:
    """The deployment secret that keys data digests (``AUDIT_DIGEST_KEY``, else derived from ``SECRET_KEY``).

    Auditors never need it: digests let the institution prove what was written without letting anyone
    who guesses a text confirm it, or link identical texts of different people.
    """
    config = current_app.config if config is None else config
    configured = str(config.get("AUDIT_DIGEST_KEY") or "")
    if configured:
        return configured.encode()
    return hmac.new(str(config["SECRET_KEY"]).encode(), b"audit-digest-key", hashlib.sha256).digest()


def keyed_digest(value: Any, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the canonical JSON of ``value`` under the deployment's digest key, as hex."""
    return hmac.new(key if key is not None else digest_key(), canonical_json(value), hashlib.sha256).hexdigest()


def data_digest(data: Mapping[str, Any], key: bytes | None = None) -> str | None:
    """Keyed digest of the data a transition wrote (``None`` when it wrote none): what callers hand to
    :func:`app.audit.append`, which binds it to the entry (:func:`entry_data_digest`)."""
    if not data:
        return None
    return keyed_digest(dict(data), key)


def entry_data_digest(digest: str, seq: int, key: bytes | None = None) -> str:
    """The ``data_digest`` an entry stores (scheme 2): the keyed digest of the data bound to the entry's
    sequence number, ``HMAC(K, canonical({"data_digest": HMAC(K, canonical(data)), "seq": seq}))``, so
    that identical data written by different people gives unrelated digests."""
    return keyed_digest({"data_digest": digest, "seq": seq}, key)


def documents_digest(documents: Iterable[tuple[str, str]]) -> str | None:
    """Digest of the (kind, sha256) pairs of the documents a transition relied on."""
    items = sorted(f"{kind}:{sha}" for kind, sha in documents)
    if not items:
        return None
    return hashlib.sha256("\n".join(items).encode()).hexdigest()
