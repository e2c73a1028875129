"""The privacy notice (aviso de privacidad): public pages, in the spirit of the Ley General de Protección de
Datos Personales en Posesión de Sujetos Obligados (LGPDPPSO, arts. 26 to 28)."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.web.access import public

bp = Blueprint("privacy", __name__)


@bp.get("/aviso-de-privacidad")
@public
def notice() -> str:
    """The integral privacy notice."""
    return render_template("privacy/notice.html")


@bp.get("/aviso-de-privacidad/simplificado")
@public
def short_notice() -> str:
    """The simplified privacy notice (shown where data is collected, linking to the integral one)."""
    return render_template("privacy/short.html")
