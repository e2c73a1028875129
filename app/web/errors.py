"""Error pages: clear, translated, never a stack trace."""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, UnsupportedMediaType

from app.extensions import db, login_manager
from app.services.csv_export import parse_bom
from app.services.health import database_unavailable
from app.services.uploads import size_text


class ExplainedBadRequest(BadRequest):
    """A request the page refuses with its own translated words (``description``), shown instead of the
    generic detail: werkzeug's own ``BadRequest`` descriptions are English and stay out of the page."""


def requested_bom() -> bool:
    """Whether a CSV download's ``?bom=`` asks for a byte order mark (:func:`app.services.csv_export.parse_bom`);
    any other value is refused in words (a bare 400 said nothing of what to send)."""
    try:
        return parse_bom(request.args.get("bom"))
    except ValueError:
        raise ExplainedBadRequest(
            _(
                "El parámetro «bom» acepta 1, sí o true (el archivo empieza con la marca de orden de bytes que "
                "algunas hojas de cálculo necesitan) y 0, no o false (sin ella)."
            )
        ) from None


class NulInInput(BadRequest):
    """The address, a query or a form value holds a NUL character: no text column can store it (PostgreSQL
    refuses it), and no person types it, so the request is refused before any view reads it."""


class JsonToAPage(UnsupportedMediaType):
    """A page's form sent as JSON: the pages' forms are sent by browsers (URL-encoded or multipart), and the form
    library would take the JSON's values for the form's (a number or a list where text is read answered 500, and
    the NUL check above reads form values only). Only the API takes JSON."""


def _refuse_nul_input() -> None:
    """Refuse a request to a page whose address, query string or form values (not its files) contain a NUL
    character (a part of the address is a view's argument: a format's code looked up in the database answered 500
    on PostgreSQL), or whose body is JSON (:class:`JsonToAPage`). The API checks its own parameters and names the
    one that is wrong."""
    environ = request.environ
    if "\x00" in environ.get("PATH_INFO", "") and not request.path.startswith("/api/"):
        raise NulInInput()
    bodiless = environ.get("CONTENT_LENGTH") in (None, "", "0") and not environ.get("HTTP_TRANSFER_ENCODING")
    if bodiless and not environ.get("QUERY_STRING"):
        return  # nothing to look at (most pages): parsing the empty query and the content type costs 40 calls
    if request.path.startswith("/api/"):
        return
    if request.is_json:
        raise JsonToAPage()
    values = request.args.listvalues()
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values = (*values, *request.form.listvalues())
    if any("\x00" in value for group in values for value in group):
        raise NulInInput()


def register_error_handlers(app: Flask) -> None:
    """Render HTTP errors as pages (or JSON for API clients); refuse input no text column can store."""
    app.before_request(_refuse_nul_input)

    def render(status: int, title: str, detail: str) -> tuple[str | dict[str, object], int]:
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
            return {"error": title, "detail": detail, "status": status}, status
        return render_template("errors/error.html", status=status, title=title, detail=detail), status

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError) -> tuple[str | dict[str, object], int]:
        return render(
            400,
            _("El formulario caducó"),
            _("Por seguridad, vuelva a cargar la página y envíe el formulario otra vez. No se guardó nada."),
        )

    @app.errorhandler(HTTPException)
    def http_error(
        exc: HTTPException,
    ) -> tuple[str | dict[str, object], int] | tuple[str | dict[str, object], int, dict[str, str]]:
        status = exc.code or 500
        titles = {
            400: _("Solicitud incorrecta"),
            403: _("Acceso denegado"),
            404: _("No encontrado"),
            405: _("Método no permitido"),
            409: _("El expediente cambió"),
            413: _("Archivo demasiado grande"),
            415: _("Formato de envío no admitido"),
            429: _("Demasiados intentos"),
        }
        detail = _("Si el problema persiste, contacte a la mesa de ayuda.")
        if isinstance(exc, JsonToAPage):
            detail = _(
                "Esta página recibe los formularios que envía el navegador, no datos en JSON; no se guardó nada."
            )
        if isinstance(exc, NulInInput):
            detail = _(
                "Lo que envió contiene un carácter nulo (NUL), que no puede guardarse. Regrese a la página "
                "anterior, quítelo y envíe de nuevo; no se guardó nada."
            )
        if isinstance(exc, ExplainedBadRequest) and exc.description:
            detail = exc.description
        if status == 403:
            # A refusal that says why (the role a page needs, who acts next on a case) carries its own words.
            given = exc.description if exc.description != Forbidden.description else None
            detail = given or _(
                "Su cuenta no permite esta acción o esta página. Si su trabajo lo requiere, pida a la "
                "administración el rol que corresponde; la mesa de ayuda puede orientarle."
            )
        if status == 413:
            detail = _(
                "Lo enviado excede el límite de %(size)s. No se guardó nada: regrese a la página anterior y "
                "elija un archivo más pequeño.",
                size=size_text(int(app.config.get("MAX_CONTENT_LENGTH") or 0)),
            )
        if status == 429:
            detail = _(
                "Hubo demasiados intentos seguidos. Por seguridad, espere unos minutos y vuelva a intentarlo; "
                "si olvidó su contraseña, puede restablecerla desde la página de inicio de sesión."
            )
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:  # a progressive delay says how long to wait
                body, code = render(status, titles[429], detail)
                return body, code, {"Retry-After": str(retry_after)}
        return render(status, titles.get(status, _("Error")), detail)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(
        exc: SQLAlchemyError,
    ) -> tuple[str | dict[str, object], int] | tuple[str | dict[str, object], int, dict[str, str]]:
        if not database_unavailable(exc):
            return server_error(exc)
        # The database is down or restarting: a temporary condition, not a bug. The pool drops the broken
        # connections (a disconnect renews it; an idle one is pinged on checkout, app.database), so the app
        # recovers by itself once the database is back.
        app.logger.warning("database unavailable: %s", type(exc.__cause__ or exc).__name__)
        with suppress(SQLAlchemyError):
            db.session.rollback()
        # The page must not need the database: the header would load the logged-in user from it.
        g._login_user = login_manager.anonymous_user()
        body, code = render(
            503,
            _("Servicio no disponible por un momento"),
            _(
                "El sistema no puede consultar sus datos en este momento. Espere unos segundos y vuelva a "
                "intentarlo. Si había enviado un formulario, vuelva a cargar la página para ver si quedó "
                "registrado antes de repetirlo: una acción ya registrada no se repite."
            ),
        )
        return body, code, {"Retry-After": str(int(app.config.get("DATABASE_RETRY_AFTER") or 5))}

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> tuple[str | dict[str, object], int]:
        app.logger.exception("unhandled error", exc_info=exc)
        # After a failed statement PostgreSQL refuses every query until rollback, and the page itself
        # needs one (the logged-in user for the header); without this the error page fails too.
        with suppress(SQLAlchemyError):
            db.session.rollback()
        return render(500, _("Error del sistema"), _("Ocurrió un error inesperado. No se mostraron detalles técnicos."))
