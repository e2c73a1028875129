"""A case's issued certificates: the list, and each PDF exactly as it was issued (never re-rendered)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from app.engine import NotAllowed, NotFound
from app.services.certificates import case_certificates_with_status, certificate_file
from app.web.access import authenticated
from app.web.headers import FILE_CONTENT_SECURITY_POLICY

bp = Blueprint("documents", __name__)


@bp.get("/expedientes/<int:case_id>/documentos")
@authenticated
def index(case_id: int) -> str:
    """The certificates issued for a case, with their status and download and verification links."""
    try:
        case, rows = case_certificates_with_status(case_id, current_user.id)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    return render_template("documents/index.html", case=case, rows=rows)


@bp.get("/expedientes/<int:case_id>/documentos/<int:certificate_id>.pdf")
@authenticated
def download(case_id: int, certificate_id: int) -> Response:
    """The stored PDF, as an attachment, to the case's applicant and to public servants and oversight."""
    try:
        stored = certificate_file(case_id, certificate_id, current_user.id)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    response = Response(stored.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{stored.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    response.set_etag(stored.sha256)
    return response
