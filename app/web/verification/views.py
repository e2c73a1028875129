"""``/verificar``: anyone checks that a certificate is authentic and current, and that a file is the issued one.

An unknown folio and a wrong code get the same answer, so the page does not reveal which folios exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.engine import InvalidData
from app.services.certificates import compare_upload, inclusion_proof_document, verify_certificate
from app.web.access import public
from app.web.labels import message_text
from forms.verification import LookupForm, UploadForm

bp = Blueprint("verification", __name__)


@bp.get("/verificar")
@public
def lookup() -> str | Response:
    """The folio + code form; a filled-in form goes to the result page."""
    form = LookupForm(request.args)
    if request.args and form.validate():
        return redirect(url_for("verification.result", folio=(form.folio.data or "").upper(), c=form.codigo.data))
    return render_template("verification/lookup.html", form=form, submitted=bool(request.args))


def _not_found(folio: str) -> tuple[str, int]:
    return render_template("verification/not_found.html", folio=folio, form=LookupForm(folio=folio)), 404


@bp.get("/verificar/<folio>")
@public
def result(folio: str) -> str | tuple[str, int]:
    """Whether the certificate is authentic and current, what it certifies and the audit entry that issued it."""
    code = request.args.get("c", "")
    verification = verify_certificate(folio, code)
    if verification is None:
        return _not_found(folio)
    return render_template(
        "verification/result.html", v=verification, code=code, form=UploadForm(), comparison=None, problem=None
    )


@bp.post("/verificar/<folio>")
@public
def compare(folio: str) -> str | tuple[str, int]:
    """Compare an uploaded file with the issued PDF, byte for byte."""
    code = request.args.get("c", "")
    verification = verify_certificate(folio, code)
    if verification is None:
        return _not_found(folio)
    form = UploadForm()
    comparison = problem = None
    if form.validate_on_submit():
        upload = form.archivo.data
        content = upload.read() if upload is not None else b""
        try:
            comparison = compare_upload(folio, code, content)
        except InvalidData as exc:
            problem = message_text(exc.message)
    else:
        problem = _("El formulario caducó; vuelva a cargar la página y envíe el archivo otra vez.")
    status = 200 if problem is None else 400
    return render_template(
        "verification/result.html", v=verification, code=code, form=form, comparison=comparison, problem=problem
    ), status


@bp.get("/verificar/<folio>/prueba-de-inclusion.json")
@public
def inclusion(folio: str) -> Any:
    """The inclusion proof of the issuing audit entry, as JSON for the standalone verifier."""
    document = inclusion_proof_document(folio, request.args.get("c", ""))
    if document is None:
        abort(404)
    return document, 200, {"Content-Disposition": f'attachment; filename="inclusion-{document["seq"]}.json"'}
