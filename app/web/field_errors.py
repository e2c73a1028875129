"""A form field's error messages tied to its input for assistive technology.

Each message is printed in an element of its own with a stable id (``<field id>-error``, then ``-error-2``,
``-error-3``… when a field has several), and the input carries ``aria-invalid="true"`` and ``aria-describedby``
naming those ids, so that a screen reader reads the message when the input takes the focus. Templates print a
field's messages with ``field_errors(field)`` and give its input ``**invalid(field)``; a group of options (a
``fieldset``) names them with ``error_ids(field)``. A field rendered under an id of its own (the same form shown
twice on a page) passes that id (``input_id``) to each, so that its messages' ids stay unique on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from markupsafe import Markup


def error_messages(field: Any) -> list[Any]:
    """The messages of ``field``'s own errors; the errors of the fields inside it (mappings: a list of
    sub-forms) are printed beside those fields."""
    errors = field.errors
    if not errors or isinstance(errors, Mapping):
        return []
    return [error for error in errors if not isinstance(error, Mapping)]


def error_ids(field: Any, input_id: str | None = None) -> list[str]:
    """The ids of the elements holding ``field``'s error messages, one per message (none without errors);
    ``input_id``: the id the field's input is rendered with, when not the field's own."""
    base = f"{input_id or field.id}-error"
    return [base if number == 1 else f"{base}-{number}" for number in range(1, len(error_messages(field)) + 1)]


def invalid(field: Any, input_id: str | None = None) -> dict[str, str]:
    """The attributes that mark the input of a field with errors as invalid and point it to its messages
    (``aria-invalid``, ``aria-describedby``); nothing for a field without errors."""
    ids = error_ids(field, input_id)
    if not ids:
        return {}
    return {"aria-invalid": "true", "aria-describedby": " ".join(ids)}


def field_errors(field: Any, input_id: str | None = None) -> Markup:
    """``field``'s error messages, each in a ``<p class="error">`` with the id :func:`error_ids` gives it."""
    messages = error_messages(field)
    return Markup("").join(
        Markup('<p class="error" id="{}">{}</p>').format(error_id, message)
        for error_id, message in zip(error_ids(field, input_id), messages, strict=True)
    )


def install_field_errors(app: Flask) -> None:
    """Give ``app``'s templates :func:`field_errors`, :func:`invalid` and :func:`error_ids`."""
    app.jinja_env.globals.update(field_errors=field_errors, invalid=invalid, error_ids=error_ids)
