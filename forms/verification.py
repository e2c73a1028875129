"""Public verification of issued certificates: look one up, upload a copy to compare."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from forms import strip


def folio_field(missing: str) -> StringField:
    """A folio as printed (letters, digits and hyphens, 40 at most); ``missing`` is the message when empty."""
    return StringField(
        _l("Folio"),
        filters=[strip],
        validators=[
            DataRequired(message=missing),
            Length(max=40, message=_l("El folio es demasiado largo.")),
            Regexp(r"\A[A-Za-z0-9-]+\Z", message=_l("El folio solo contiene letras, números y guiones.")),
        ],
    )


class LookupForm(FlaskForm):
    """Folio and verification code, as printed under the QR code (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    folio = folio_field(_l("Escriba el folio del documento."))
    codigo = StringField(
        _l("Código de verificación"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba el código de verificación.")),
            Length(max=24, message=_l("El código es demasiado largo.")),
        ],
    )
    submit = SubmitField(_l("Verificar"))


class UploadForm(FlaskForm):
    """A PDF to compare, byte for byte, with the issued one (CSRF-protected POST)."""

    archivo = FileField(_l("Archivo PDF"))
    submit = SubmitField(_l("Comparar"))


class StatusLookupForm(FlaskForm):
    """The folio of a case to follow publicly (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    folio = folio_field(_l("Escriba el folio del expediente."))
    submit = SubmitField(_l("Consultar"))
