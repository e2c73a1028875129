"""WTForms classes, one module per feature. Forms get what they need through their constructor."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in the stubs yet
from wtforms.validators import NumberRange, Optional

MAX_WHOLE_NUMBER_DIGITS = 15
"""Digits a whole-number field reads: far past any count of days or years, and within what NumberRange can
compare (it converts to float, and a 400-digit number overflows)."""


def strip(value: Any) -> Any:
    """WTForms filter: text without leading or trailing blanks (other values unchanged)."""
    return value.strip() if isinstance(value, str) else value


def squeeze(value: Any) -> Any:
    """WTForms filter: one line of text with every run of blanks made one space and none at the ends, and without
    control or invisible format characters (Unicode categories Cc and Cf: a zero-width space alone passed as a
    required name, and a direction override reorders what others read)."""
    if not isinstance(value, str):
        return value
    if not value.isprintable():  # most text is: no character to look at one by one
        value = "".join(c for c in value if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(value.split())


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Choices for a select or radio field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class WholeNumber(IntegerField):
    """An ``IntegerField`` that refuses numbers with more than ``MAX_WHOLE_NUMBER_DIGITS`` digits as not a
    whole number, instead of handing NumberRange a value it cannot compare (a server error)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Read the number; too many digits is the same error as no number at all."""
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > MAX_WHOLE_NUMBER_DIGITS:
            self.data = None
            raise ValueError(_l("Escriba un número entero."))
        super().process_formdata(valuelist)


class YearFilter(Form):
    """A list's year filter (GET, no CSRF): ``ejercicio``, optional; the lists that keep every year's rows show
    one year at a time."""

    ejercicio = WholeNumber(
        _l("Ejercicio"),
        validators=[
            Optional(),
            NumberRange(min=2000, max=2200, message=_l("El ejercicio debe ser un año entre 2000 y 2200.")),
        ],
    )
