"""Departments (administrative units): create one, rename one, delete one, create the declared ones."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forms import squeeze, strip

CODE_PATTERN = r"\A[a-z0-9][a-z0-9_]{0,63}\Z"


class DepartmentForm(FlaskForm):
    """A new department: the code settings and role grants name, and the name people read (in Spanish and,
    optionally, in English)."""

    code = StringField(
        _l("Código"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Escriba el código del área.")),
            Regexp(
                CODE_PATTERN,
                message=_l("Use solo minúsculas, dígitos y guiones bajos, hasta 64 (p. ej. desarrollo_urbano)."),
            ),
        ],
    )
    name = StringField(
        _l("Nombre"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Escriba el nombre del área.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    name_en = StringField(
        _l("Nombre en inglés (opcional)"),
        filters=[squeeze],
        validators=[Optional(), Length(max=200, message=_l("Máximo 200 caracteres."))],
    )
    submit = SubmitField(_l("Crear área"))


class RenameForm(FlaskForm):
    """A department's new names, Spanish and (optionally) English; its code stays."""

    name = StringField(
        _l("Nombre"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Escriba el nombre del área.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    name_en = StringField(
        _l("Nombre en inglés (opcional)"),
        filters=[squeeze],
        validators=[Optional(), Length(max=200, message=_l("Máximo 200 caracteres."))],
    )
    submit = SubmitField(_l("Cambiar nombre"))


class DeleteForm(FlaskForm):
    """Delete a department (refused while anything names it)."""

    submit = SubmitField(_l("Eliminar"))


class EnsureForm(FlaskForm):
    """Create the departments the installed procedures declare and that do not exist."""

    submit = SubmitField(_l("Crear las áreas que faltan con su nombre declarado"))
