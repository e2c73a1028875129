"""The forms that change a case write their hidden fields without WTForms' widget (a case page shows one form
per action): the markup must be Flask-WTF's ``hidden_tag``'s, character for character, whatever the values."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms import HiddenField

import forms
from forms.cases import action_form
from forms.publications import RecordForm
from forms.steps import VersionedForm
from workflows.procedure import Field as FieldSpec


def _versioned_forms() -> list[type[VersionedForm]]:
    """Every form class of ``forms/`` that changes a case (the versioned ones), loaded from every module."""
    for module in pkgutil.iter_modules(forms.__path__):
        importlib.import_module(f"forms.{module.name}")
    found: list[type[VersionedForm]] = []
    pending: list[type[VersionedForm]] = [VersionedForm]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _as_wtforms_writes(form: FlaskForm, *fields: Any) -> str:
    return str(FlaskForm.hidden_tag(form, *fields))


def test_every_versioned_form_writes_the_hidden_fields_as_wtforms_does(app: Flask) -> None:
    classes = _versioned_forms()
    assert len(classes) > 5  # the walk found the step forms, not only the base
    with app.test_request_context("/"):
        for cls in classes:
            form = cls(("ano", "monto"), formdata=None) if cls is RecordForm else cls(formdata=None)
            form.expected_version.data = "12"
            assert str(form.hidden_tag()) == _as_wtforms_writes(form), cls
            assert 'type="hidden"' in form.hidden_tag()


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=texts, key=texts, trigger=st.sampled_from(["start_intake", 'a"b<c>&d']))
def test_any_values_are_escaped_as_wtforms_escapes_them(app: Flask, version: str, key: str, trigger: str) -> None:
    specs = (FieldSpec(name="folio_externo", label="Folio externo", type="text"),)
    with app.test_request_context("/"):
        form = action_form(trigger, specs, comment_required=False, formdata=None)  # the trigger is the prefix
        form.expected_version.data = version
        form.idempotency_key.data = key
        assert str(form.hidden_tag()) == _as_wtforms_writes(form)
        # the fields asked for by name or as fields; unknown names and inputs that are not hidden are left out
        chosen = ("expected_version", form.csrf_token, "no_such_field", "comment", "folio_externo")
        assert str(form.hidden_tag(*chosen)) == _as_wtforms_writes(form, *chosen)


def test_what_the_widget_would_add_is_left_to_the_widget(app: Flask) -> None:
    class Extra(VersionedForm):
        styled = HiddenField(render_kw={"class": "x", "data_role": "r"})
        number = HiddenField()

    with app.test_request_context("/"):
        form = Extra(formdata=None)
        form.number.data = 7  # type: ignore[assignment]  # not a text: the widget turns it into one
        form.expected_version.flags.disabled = True
        written = str(form.hidden_tag())
        assert written == _as_wtforms_writes(form)
        assert 'class="x"' in written
        assert 'data-role="r"' in written
        assert 'value="7"' in written
        assert "disabled" in written
