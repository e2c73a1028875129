"""``/api/v1/audit``: the audit log for oversight bodies and the public (read-only).

Public: the checkpoints and the public keys. Entries, proofs and bundles: logged-in auditors,
guarantors and administrators (session cookie). Errors are JSON ``{"error", "detail", "status"}``;
a malformed parameter is a 400 that says which one, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, request, stream_with_context
from flask_babel import gettext
from flask_login import current_user

from app.access_rules import AccessRule, mark, public
from app.engine import Msg
from app.models import Role
from app.services.oversight import (
    LogDamaged,
    OversightError,
    bundle,
    consistency_proof,
    entry_document,
    inclusion_proof,
    list_checkpoints,
    log_public_keys,
    parse_bundle_format,
    parse_filter,
    parse_int,
    search_entries,
)

bp = Blueprint("api_audit", __name__, url_prefix="/api/v1/audit")

OVERSIGHT_ROLES = (Role.AUDITOR, Role.GUARANTOR, Role.ADMIN)
F = TypeVar("F", bound=Callable[..., Any])


def _text(message: Msg) -> str:
    return message.render(lambda text: str(gettext(text)))


def error(status: int, title: str, detail: str) -> tuple[dict[str, Any], int]:
    """The API's error body."""
    return {"error": title, "detail": detail, "status": status}, status


def oversight_only(view: F) -> F:
    """401 for visitors, 403 for users without an oversight role."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return error(401, gettext("Inicie sesión"), gettext("Esta consulta requiere una sesión iniciada."))
        if not any(current_user.has_role(role) for role in OVERSIGHT_ROLES):
            return error(
                403,
                gettext("Acceso denegado"),
                gettext("Solo los órganos de supervisión (auditoría, órgano garante) y la administración."),
            )
        return view(*args, **kwargs)

    mark(wrapped, AccessRule(roles=frozenset(OVERSIGHT_ROLES)))
    return wrapped  # type: ignore[return-value]


@bp.errorhandler(OversightError)
def _bad_parameter(exc: OversightError) -> tuple[dict[str, Any], int]:
    title = gettext("No encontrado") if exc.status == 404 else gettext("Solicitud incorrecta")
    return error(exc.status, title, _text(exc.message))


@bp.errorhandler(LogDamaged)
def _damaged(exc: LogDamaged) -> tuple[dict[str, Any], int]:
    return error(500, gettext("Bitácora dañada"), _text(exc.message))


@bp.get("/checkpoints")
@public
def checkpoints() -> dict[str, Any]:
    """Signed checkpoints, newest first (public). ``?before=<id>`` pages back; ``?limit=`` up to 1000."""
    limit = parse_int(request.args.get("limit"), "limit", maximum=1000) or 100
    before = parse_int(request.args.get("before"), "before")
    items = list_checkpoints(limit, before)
    return {"checkpoints": items, "next_before": items[-1]["id"] if len(items) == limit else None}


@bp.get("/public-keys")
@public
def public_keys() -> dict[str, Any]:
    """Every public key that signed a checkpoint, with its fingerprint (public)."""
    return {"public_keys": log_public_keys()}


@bp.get("/entries")
@oversight_only
def entries() -> dict[str, Any]:
    """A page of the log, filtered (``case``, ``folio``, ``workflow``, ``actor``, ``role``, ``trigger``,
    ``kind``, ``from``, ``to``), after or before a sequence number (``after``/``before``)."""
    selection = parse_filter(request.args)
    limit = parse_int(request.args.get("limit"), "limit", maximum=500) or 50
    page = search_entries(
        selection,
        after=parse_int(request.args.get("after"), "after", minimum=0),
        before=parse_int(request.args.get("before"), "before"),
        limit=limit,
    )
    return {
        "entries": [{"seq": row.seq, **row.line} for row in page.entries],
        "total": page.total,
        "total_exact": page.total_exact,
        "before": page.before,
        "after": page.after,
        "log_size": page.log_size,
    }


@bp.get("/entries/<seq>")
@oversight_only
def entry(seq: str) -> dict[str, Any]:
    """One entry: its canonical object, leaf hash and chain hash."""
    number = parse_int(seq, "seq")
    if number is None:
        raise OversightError(Msg("Falta el parámetro «%(name)s».", {"name": "seq"}))
    return entry_document(number)


@bp.get("/proofs/inclusion")
@oversight_only
def inclusion() -> dict[str, Any]:
    """Inclusion proof of entry ``seq`` against the checkpoint of ``tree_size`` (default: the latest)."""
    seq = parse_int(request.args.get("seq"), "seq")
    if seq is None:
        raise OversightError(Msg("Falta el parámetro «%(name)s».", {"name": "seq"}))
    return inclusion_proof(seq, parse_int(request.args.get("tree_size"), "tree_size"))


@bp.get("/proofs/consistency")
@oversight_only
def consistency() -> dict[str, Any]:
    """Consistency proof between the checkpoints of sizes ``first`` and ``second`` (default: the latest)."""
    first = parse_int(request.args.get("first"), "first")
    if first is None:
        raise OversightError(Msg("Falta el parámetro «%(name)s».", {"name": "first"}))
    return consistency_proof(first, parse_int(request.args.get("second"), "second"))


@bp.get("/bundle")
@oversight_only
def audit_bundle() -> Response:
    """The audit bundle (JSON lines) for the checkpoint of ``tree_size`` (default: the latest), in ``format`` 1
    (the default) or 2 (each checkpoint after the entries it covers)."""
    checkpoint, lines = bundle(
        parse_int(request.args.get("tree_size"), "tree_size"), parse_bundle_format(request.args.get("format"), "format")
    )
    return Response(
        stream_with_context(lines),
        mimetype="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="bitacora-{checkpoint["tree_size"]}.jsonl"',
            "Cache-Control": "no-store",
        },
    )
