"""Templates compiled per language with their constant texts translated in (``app.templating``): the pages are
what the per-request ``_()`` calls gave, in both languages, and only exact cases are replaced."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template
from flask.templating import Environment
from flask.testing import FlaskClient
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import DictLoader
from markupsafe import Markup, escape

from app import create_app
from app.models import Role
from app.templating import (
    PROCESS_TEMPLATES,
    ConstantTexts,
    LanguageEnvironment,
    LanguageLoader,
    ProcessTemplates,
    output_escape,
    translated_constant,
)
from tests.support.factories import make_user, submitted_case
from tests.web.helpers import login_as, set_language

VARYING = re.compile(r'(name="[^"]*(?:csrf_token|idempotency_key)"[^>]*value=")[^"]*"|(nonce=")[^"]*"')
"""What differs between two renderings of the same page: tokens, idempotency keys, the script nonce."""


def _plain_environment(app: Flask) -> Environment:
    """The application's template environment as it was without :mod:`app.templating`: compiled once for every
    language, each ``_()`` called when the page is rendered."""
    kept = app.jinja_env
    assert isinstance(kept, LanguageEnvironment)
    assert isinstance(kept.loader, LanguageLoader)
    plain = Environment(app, loader=kept.loader.loader, **app.jinja_options)
    plain.globals.update(kept.globals)
    plain.filters.update(kept.filters)
    plain.tests.update(kept.tests)
    plain.policies.update(kept.policies)
    for extension in kept.extensions.values():
        if not isinstance(extension, ConstantTexts):
            plain.add_extension(type(extension))
    return plain


def _pages(client: FlaskClient, paths: list[str]) -> list[str]:
    pages = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        pages.append(VARYING.sub(lambda m: (m.group(1) or m.group(2)) + '"', response.get_data(as_text=True)))
    return pages


@pytest.mark.parametrize("language", ["es_MX", "en"])
def test_pages_are_what_the_calls_gave(app: Flask, client: FlaskClient, language: str) -> None:
    case_id = submitted_case(make_user(Role.APPLICANT))
    visitor = app.test_client()
    set_language(visitor, language)
    login_as(client, make_user(Role.INTAKE_CLERK))
    set_language(client, language, "/inicio")
    anonymous = ["/login", "/verificar", "/aviso-de-privacidad"]
    staff = ["/inicio", "/bandeja", f"/expedientes/{case_id}", "/avisos"]
    compiled = _pages(visitor, anonymous) + _pages(client, staff)
    language_environment = app.jinja_env
    app.__dict__["jinja_env"] = _plain_environment(app)  # Flask keeps the environment in the instance
    try:
        called = _pages(visitor, anonymous) + _pages(client, staff)
    finally:
        app.__dict__["jinja_env"] = language_environment
    assert compiled == called
    assert any("Salir" in page or "Log out" in page for page in compiled)


def test_a_template_is_compiled_per_language_with_its_texts_in(app: Flask) -> None:
    environment = app.jinja_env
    source = "{{ _('Salir') }}|{{ _('Salir') ~ '!' }}|{{ _('%(n)s días', n=2) }}|{{- _('Idioma') -}}"
    with app.test_request_context("/"):
        code_es = environment.compile(source, name="es_MX::prueba.html", raw=True)
        code_en = environment.compile(source, name="en::prueba.html", raw=True)
        code_none = environment.compile(source, name="prueba.html", raw=True)
        exit_en = translated_constant("Salir", "en")
    assert exit_en is not None
    assert exit_en != "Salir"
    assert "Salir|" in code_es
    assert f"{exit_en}|" in code_en
    # exactly {{ _('text') }} became static text; the call inside a larger expression and the one with
    # variables stay calls, and a template compiled without a language keeps them all
    assert code_es.count("context.call(") == code_en.count("context.call(") == 2
    assert code_none.count("context.call(") == 4


def test_only_texts_that_read_the_same_escaped_are_put_in(app: Flask) -> None:
    with app.test_request_context("/"):
        assert translated_constant("Salir", "es_MX") == "Salir"
        assert translated_constant("100%% seguro", "es_MX") == "100% seguro"
        assert translated_constant("Términos <b>claros</b>", "es_MX") is None
        assert translated_constant("O'Higgins", "es_MX") is None
        assert translated_constant("%(n)s días", "es_MX") is None  # needs its variable: the call decides


def test_a_template_loaded_without_a_request_is_compiled_as_it_is(app: Flask) -> None:
    with app.app_context():  # no request: no language to select (the language selector reads the session)
        template = app.jinja_env.get_template("mail/case_transition.txt")
    assert template.name == "mail/case_transition.txt"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert app.jinja_env.get_template("mail/case_transition.txt").name == "en::mail/case_transition.txt"


def test_applications_of_one_process_share_their_compiled_templates_per_language(
    app: Flask, other_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str | None] = []
    compile_ = LanguageEnvironment.compile

    def counted(environment: LanguageEnvironment, source: str, name: str | None = None, *args: Any) -> Any:
        compiled.append(name)
        return compile_(environment, source, name, *args)

    monkeypatch.setattr(LanguageEnvironment, "compile", counted)
    PROCESS_TEMPLATES.clear()
    second = other_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    pages = []
    for application in (app, second, app):
        for language in ("es_MX", "en"):
            with application.test_request_context("/"), force_locale(language):
                page = render_template("errors/error.html", title="Título", detail="Detalle", status=404)
                pages.append(VARYING.sub(lambda m: (m.group(1) or m.group(2)) + '"', page))
    assert compiled.count("es_MX::errors/error.html") == 1
    assert compiled.count("en::errors/error.html") == 1
    assert compiled.count("es_MX::base.html") == 1  # and what it extends
    assert pages[0] == pages[2] == pages[4] != pages[1] == pages[3] == pages[5]  # each its language's texts


def test_a_server_compiles_its_own_templates() -> None:
    for config in ("development", "production"):
        assert create_app(config, SECRET_KEY="x" * 40).jinja_env.bytecode_cache is None


def test_a_changed_template_is_compiled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    compile_ = Environment.compile

    def counted(environment: Environment, source: str, *args: Any) -> Any:
        compiled.append(source)
        return compile_(environment, source, *args)

    monkeypatch.setattr(Environment, "compile", counted)
    kept = ProcessTemplates()
    sources = {"page.html": "<p>{{ 1 + 1 }}</p>"}

    def rendered() -> str:
        environment = Environment(create_app("test"), loader=DictLoader(sources), bytecode_cache=kept)
        return environment.get_template("page.html").render()

    assert rendered() == rendered() == "<p>2</p>"
    assert compiled == ["<p>{{ 1 + 1 }}</p>"]  # the second environment found it compiled
    sources["page.html"] = "<p>{{ 1 + 2 }}</p>"
    assert rendered() == "<p>3</p>"
    assert len(compiled) == 2


class _Html:
    def __html__(self) -> str:
        return "<b>ya marcado</b>"


class _Text(str):
    """A ``str`` subclass: escaped by markupsafe's ``escape`` (its ``__html__``, if any, decides)."""


@given(st.text())
def test_output_escape_writes_what_markupsafe_escape_writes(text: str) -> None:
    marked = Markup(text)  # noqa: S704 - any text as markup, on purpose
    for value in (text, marked, _Text(text), Markup.escape(text)):
        assert output_escape(value) == str(escape(value))


def test_output_escape_of_other_values() -> None:
    for value in (3, 2.5, None, _Html(), ["<a>"], Markup("<i>&amp;</i>")):
        assert output_escape(value) == str(escape(value))
