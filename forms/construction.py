"""Construction requests: the eligibility check and the applicant's steps (property, project, use, DRO,
documents). Choices from the settings catalogues are handed in by the view; forms never query anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from forms import options, squeeze
from forms.steps import YES_NO, EligibilityBase, Number, StepForm, number_value, with_blank, yes_no

MAX_AREA = Decimal("10000000")
CODE_SHAPE = r"\A[A-Za-z0-9][A-Za-z0-9\-/. ]{0,39}\Z"
REGISTRATION_SHAPE = r"\A[A-Za-z0-9][A-Za-z0-9\-/.]{1,39}\Z"

Choices = Sequence[tuple[str, Any]]


area_value = number_value
"""``raw`` (e.g. ``1,500.50``) as a plain decimal string (``1500.50``), or ``None`` if it is not one."""


class Area(Number):
    """A surface in m²: digits, optional thousands commas, at most two decimals, above zero."""

    def __init__(self) -> None:
        super().__init__(
            largest=MAX_AREA,
            shape=_l("Escriba la superficie en metros cuadrados, p. ej. 1500 o 1,500.50."),
            positive=_l("La superficie debe ser mayor que cero."),
            too_large=_l("La superficie es demasiado grande."),
        )


def _built_area() -> StringField:
    return StringField(
        _l("Superficie construida (m²)"),
        filters=[squeeze],
        validators=[DataRequired(message=_l("Indique la superficie construida en m².")), Area()],
    )


def _question(label: Any, message: Any) -> RadioField:
    return RadioField(label, choices=options(YES_NO), validators=[InputRequired(message=message)])


def _select(label: Any, message: Any) -> SelectField:
    return SelectField(label, choices=[], validate_choice=True, validators=[DataRequired(message=message)])


class EligibilityForm(EligibilityBase):
    """The questions that decide whether a request qualifies."""

    built_area_m2 = _built_area()
    new_construction = _question(_l("¿Es obra nueva?"), _l("Indique si es obra nueva."))
    works_started = _question(_l("¿Ya iniciaron los trabajos?"), _l("Indique si la obra ya inició."))
    lot_vacant = _question(_l("¿El predio está baldío?"), _l("Indique si el predio está baldío."))
    land_use = _select(_l("Giro o uso"), _l("Elija el giro o uso."))
    building_type = _select(_l("Tipo de edificación"), _l("Elija el tipo de edificación."))

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.land_use.choices = with_blank((choices or {}).get("land_use", ()))
        self.building_type.choices = with_blank((choices or {}).get("building_type", ()))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data."""
        return {
            "built_area_m2": area_value(self.built_area_m2.data),
            "new_construction": yes_no(self.new_construction.data),
            "works_started": yes_no(self.works_started.data),
            "lot_vacant": yes_no(self.lot_vacant.data),
            "land_use": self.land_use.data,
            "building_type": self.building_type.data,
        }


class PropertyForm(StepForm):
    """Step 1: the property."""

    property_address = StringField(
        _l("Domicilio del predio"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Indique el domicilio del predio.")),
            Length(max=300, message=_l("Máximo 300 caracteres.")),
        ],
    )
    cadastral_key = StringField(
        _l("Clave catastral"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Indique la clave catastral.")),
            Regexp(CODE_SHAPE, message=_l("La clave catastral solo admite letras, números, guiones y puntos.")),
        ],
    )
    lot_area_m2 = StringField(
        _l("Superficie del predio (m²)"),
        filters=[squeeze],
        validators=[DataRequired(message=_l("Indique la superficie del predio en m².")), Area()],
    )
    lot_vacant = _question(_l("¿El predio está baldío?"), _l("Indique si el predio está baldío."))
    submit = SubmitField(_l("Guardar y continuar"))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data."""
        return {
            "property_address": self.property_address.data,
            "cadastral_key": self.cadastral_key.data,
            "lot_area_m2": area_value(self.lot_area_m2.data),
            "lot_vacant": yes_no(self.lot_vacant.data),
        }


class ProjectForm(StepForm):
    """Step 2: the project."""

    built_area_m2 = _built_area()
    building_type = _select(_l("Tipo de edificación"), _l("Elija el tipo de edificación."))
    new_construction = _question(_l("¿Es obra nueva?"), _l("Indique si es obra nueva."))
    works_started = _question(_l("¿Ya iniciaron los trabajos?"), _l("Indique si la obra ya inició."))
    submit = SubmitField(_l("Guardar y continuar"))

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        self.building_type.choices = with_blank(self.choices.get("building_type", ()))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data."""
        return {
            "built_area_m2": area_value(self.built_area_m2.data),
            "building_type": self.building_type.data,
            "new_construction": yes_no(self.new_construction.data),
            "works_started": yes_no(self.works_started.data),
        }


class UseForm(StepForm):
    """Step 3: the use (giro)."""

    land_use = _select(_l("Giro o uso"), _l("Elija el giro o uso."))
    submit = SubmitField(_l("Guardar y continuar"))

    def __init__(self, choices: Mapping[str, Choices] | None = None, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        self.land_use.choices = with_blank(self.choices.get("land_use", ()))

    def request_data(self) -> dict[str, Any]:
        """The answers as case data."""
        return {"land_use": self.land_use.data}


def _person(label: Any) -> StringField:
    return StringField(
        label, filters=[squeeze], validators=[Optional(), Length(max=200, message=_l("Máximo 200 caracteres."))]
    )


def _registration(label: Any) -> StringField:
    return StringField(
        label,
        filters=[squeeze],
        validators=[
            Optional(),
            Regexp(REGISTRATION_SHAPE, message=_l("El registro solo admite letras, números, guiones y puntos.")),
        ],
    )


CO_RESPONSIBLES = (
    ("seguridad_estructural", "cse_name", "cse_registration"),
    ("instalaciones", "ci_name", "ci_registration"),
    ("diseno_urbano", "cdu_name", "cdu_registration"),
)
"""Co-responsible specialties and the form fields holding each one's name and registration."""


class DroForm(StepForm):
    """Step 4: the DRO and, where the works need them, the co-responsible directors."""

    headings: Mapping[str, Any] = {"cse_name": _l("Corresponsables (si la obra los requiere)")}

    dro_name = StringField(
        _l("Nombre del Director Responsable de Obra (DRO)"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Indique el nombre del DRO.")),
            Length(max=200, message=_l("Máximo 200 caracteres.")),
        ],
    )
    dro_registration = StringField(
        _l("Número de registro del DRO"),
        filters=[squeeze],
        validators=[
            DataRequired(message=_l("Indique el número de registro del DRO.")),
            Regexp(REGISTRATION_SHAPE, message=_l("El registro solo admite letras, números, guiones y puntos.")),
        ],
    )
    cse_name = _person(_l("Corresponsable en seguridad estructural: nombre"))
    cse_registration = _registration(_l("Corresponsable en seguridad estructural: registro"))
    ci_name = _person(_l("Corresponsable en instalaciones: nombre"))
    ci_registration = _registration(_l("Corresponsable en instalaciones: registro"))
    cdu_name = _person(_l("Corresponsable en diseño urbano y arquitectónico: nombre"))
    cdu_registration = _registration(_l("Corresponsable en diseño urbano y arquitectónico: registro"))
    submit = SubmitField(_l("Guardar y continuar"))

    def validate(self, extra_validators: Any = None) -> bool:
        """Each co-responsible needs both a name and a registration, or neither."""
        ok = bool(super().validate(extra_validators))
        for _, name_field, registration_field in CO_RESPONSIBLES:
            name, registration = self[name_field], self[registration_field]
            if bool(name.data) != bool(registration.data):
                missing = registration if name.data else name
                missing.errors = [
                    *missing.errors,
                    _l("Indique nombre y registro del corresponsable, o deje ambos vacíos."),
                ]
                ok = False
        return ok

    def request_data(self) -> dict[str, Any]:
        """The answers as case data (co-responsibles as a list of specialty, name and registration)."""
        co = [
            {"specialty": specialty, "name": self[n].data, "registration": self[r].data}
            for specialty, n, r in CO_RESPONSIBLES
            if self[n].data
        ]
        return {"dro_name": self.dro_name.data, "dro_registration": self.dro_registration.data, "co_responsibles": co}

    def fill(self, data: Mapping[str, Any]) -> None:
        """Show the stored data, the co-responsibles in their fields."""
        super().fill(data)
        for item in data.get("co_responsibles") or ():
            for specialty, n, r in CO_RESPONSIBLES:
                if isinstance(item, dict) and item.get("specialty") == specialty:
                    self[n].data = item.get("name")
                    self[r].data = item.get("registration")
