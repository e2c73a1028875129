"""Oversight area: browse and filter the log, case timelines, exports, bundles and proofs (GET only).

Auditors, the guarantor body and administrators may read everything here and change nothing. The
checkpoint list and the public keys are public: anyone may keep a checkpoint to check the log later.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from app.engine import Msg
from app.models import Role
from app.services.oversight import (
    EntryFilter,
    LogDamaged,
    OversightError,
    bundle,
    case_timeline,
    consistency_proof,
    entry_document,
    export_csv,
    export_jsonl,
    inclusion_proof,
    latest_checkpoint_json,
    list_checkpoints,
    log_public_keys,
    parse_bundle_format,
    parse_filter,
    parse_int,
    search_entries,
)
from app.web.access import public, roles_required
from app.web.errors import requested_bom
from app.web.labels import actor_role_label, message_text
from workflows import REGISTRY
from workflows.base import SYSTEM_ROLE

bp = Blueprint("oversight", __name__, url_prefix="/supervision")

OVERSIGHT_ROLES = (Role.AUDITOR, Role.GUARANTOR, Role.ADMIN)
ROLE_CHOICES = (*(role.value for role in Role), SYSTEM_ROLE)
"""The roles log entries record, as the filter sends them."""


def _bad_request(exc: OversightError | LogDamaged) -> tuple[str, int]:
    status = exc.status if isinstance(exc, OversightError) else 500
    titles = {400: _("Solicitud incorrecta"), 404: _("No encontrado"), 500: _("Bitácora dañada")}
    return render_template(
        "errors/error.html", status=status, title=titles.get(status, _("Error")), detail=message_text(exc.message)
    ), status


def _download(lines: Any, mimetype: str, filename: str) -> Response:
    return Response(
        stream_with_context(lines),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/")
@roles_required(*OVERSIGHT_ROLES)
def index() -> tuple[str, int]:
    """The whole log, filtered and paginated (the latest entries first shown, in sequence order)."""
    selection = EntryFilter()
    error = None
    page = None
    try:
        selection = parse_filter(request.args)
        page = search_entries(
            selection,
            after=parse_int(request.args.get("despues"), "despues", minimum=0),
            before=parse_int(request.args.get("antes"), "antes"),
        )
    except OversightError as exc:
        error = message_text(exc.message)
    return render_template(
        "oversight/index.html",
        selection=selection,
        args=request.args,
        page=page,
        error=error,
        roles=[(code, actor_role_label(code)) for code in ROLE_CHOICES],
        latest=latest_checkpoint_json(),
        procedure_names=REGISTRY.names,
    ), (400 if error else 200)


@bp.get("/exportar.csv")
@roles_required(*OVERSIGHT_ROLES)
def export_selection_csv() -> Response | tuple[str, int]:
    """The selection as CSV (UTF-8, instants in UTC; ``?bom=1`` adds a byte order mark)."""
    try:
        selection = parse_filter(request.args)
    except OversightError as exc:
        return _bad_request(exc)
    bom = requested_bom()
    return _download(export_csv(selection, bom=bom), "text/csv", "bitacora.csv")


@bp.get("/exportar.jsonl")
@roles_required(*OVERSIGHT_ROLES)
def export_selection_jsonl() -> Response | tuple[str, int]:
    """The selection as JSON lines (canonical entry objects with their leaf and chain hashes)."""
    try:
        selection = parse_filter(request.args)
    except OversightError as exc:
        return _bad_request(exc)
    return _download(export_jsonl(selection), "application/x-ndjson", "bitacora.jsonl")


@bp.get("/expedientes/<int:case_id>")
@roles_required(*OVERSIGHT_ROLES)
def timeline(case_id: int) -> str | tuple[str, int]:
    """Every log entry about one case, oldest first, with the comments the canonical form only digests (not
    for administrators, who read no case files)."""
    try:
        found = case_timeline(case_id, current_user.id)
    except OversightError as exc:
        return _bad_request(exc)
    return render_template("oversight/timeline.html", timeline=found)


@bp.get("/entradas/<int:seq>")
@roles_required(*OVERSIGHT_ROLES)
def entry(seq: int) -> str | tuple[str, int]:
    """One entry: its canonical form (what is hashed) and its hashes."""
    try:
        document = entry_document(seq)
    except OversightError as exc:
        return _bad_request(exc)
    return render_template(
        "oversight/entry.html",
        document=document,
        canonical=json.dumps(document["entry"], ensure_ascii=False, sort_keys=True, indent=2),
        latest=latest_checkpoint_json(),
    )


@bp.get("/paquete.jsonl")
@roles_required(*OVERSIGHT_ROLES)
def download_bundle() -> Response | tuple[str, int]:
    """The audit bundle for a checkpoint (``tamano``; default the latest), in ``formato`` 1 (the default) or 2, for
    the standalone verifier."""
    try:
        checkpoint, lines = bundle(
            parse_int(request.args.get("tamano"), "tamano"), parse_bundle_format(request.args.get("formato"), "formato")
        )
    except OversightError as exc:
        return _bad_request(exc)
    return _download(lines, "application/x-ndjson", f"bitacora-{checkpoint['tree_size']}.jsonl")


def _proof_page(template: str, compute: Any, **context: Any) -> BaseResponse | tuple[str, int]:
    error = None
    proof = None
    try:
        proof = compute()
    except (OversightError, LogDamaged) as exc:
        error = message_text(exc.message)
    if proof is not None and request.args.get("formato") == "json":
        name = template.removeprefix("oversight/").removesuffix(".html")
        return Response(
            json.dumps(proof, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="prueba-{name}.json"'},
        )
    return render_template(template, proof=proof, error=error, args=request.args, **context), (400 if error else 200)


@bp.get("/pruebas/inclusion")
@roles_required(*OVERSIGHT_ROLES)
def inclusion() -> BaseResponse | tuple[str, int]:
    """Ask for an inclusion proof (``seq``, ``tree_size``); shown, or downloaded with ``formato=json``."""

    def compute() -> dict[str, Any] | None:
        seq = parse_int(request.args.get("seq"), "seq")
        if seq is None:
            if "seq" in request.args:  # the form sent empty: said, not shown again in silence
                raise OversightError(Msg("Indique el número de la entrada."))
            return None
        return inclusion_proof(seq, parse_int(request.args.get("tree_size"), "tree_size"))

    return _proof_page("oversight/inclusion.html", compute, checkpoints=list_checkpoints(50))


@bp.get("/pruebas/consistencia")
@roles_required(*OVERSIGHT_ROLES)
def consistency() -> BaseResponse | tuple[str, int]:
    """Ask for a consistency proof (``first``, ``second``); shown, or downloaded with ``formato=json``."""

    def compute() -> dict[str, Any] | None:
        first = parse_int(request.args.get("first"), "first")
        if first is None:
            if "first" in request.args:  # the form sent empty: said, not shown again in silence
                raise OversightError(Msg("Indique el tamaño del primer punto de control."))
            return None
        return consistency_proof(first, parse_int(request.args.get("second"), "second"))

    return _proof_page("oversight/consistency.html", compute, checkpoints=list_checkpoints(50))


@bp.get("/puntos-de-control")
@public
def checkpoints() -> str | tuple[str, int]:
    """Every signed checkpoint, newest first, and the keys that signed them (public)."""
    try:
        before = parse_int(request.args.get("antes"), "antes")
    except OversightError as exc:
        return _bad_request(exc)
    items = list_checkpoints(100, before)
    return render_template(
        "oversight/checkpoints.html",
        checkpoints=items,
        next_before=items[-1]["id"] if len(items) == 100 else None,
        keys=log_public_keys(),
    )


@bp.get("/llaves/<fingerprint>.pem")
@public
def public_key(fingerprint: str) -> Response:
    """One public key that signed checkpoints, as a PEM file (public)."""
    for key in log_public_keys():
        if key["fingerprint"] == fingerprint:
            return Response(
                key["pem"],
                mimetype="application/x-pem-file",
                headers={"Content-Disposition": f'attachment; filename="bitacora-{fingerprint[:16]}.pem"'},
            )
    abort(404)
