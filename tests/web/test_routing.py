"""The application's URL rules compile their URL builders when first used (app.routing): building the application
compiles none, and every rule builds the URLs Werkzeug's own builders build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, url_for
from werkzeug.routing import IntegerConverter, PathConverter, Rule

from app import create_app
from app.routing import LazilyBuiltRule


def _application(tmp_path: Path) -> Flask:
    return create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'unused.sqlite3'}")


def _values(rule: Rule) -> dict[str, Any]:
    """A value for each of ``rule``'s variables, of its converter's kind, and one the rule does not take."""
    values: dict[str, Any] = {"pagina": "2 y 3"}  # appended as a query string by the builder that takes unknowns
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, IntegerConverter):
            values[name] = 7
        elif isinstance(converter, PathConverter):
            values[name] = "carpeta/archivo ñ.pdf"
        else:
            values[name] = "clave ñ/1"
    return values


def _is_compiled(rule: Rule, attribute: str) -> bool:
    return getattr(rule, attribute).__func__.__name__ != "build_on_first_use"


def test_building_the_application_compiles_no_url_builder(tmp_path: Path) -> None:
    application = _application(tmp_path)
    rules = list(application.url_map.iter_rules())
    assert len(rules) > 100
    assert all(isinstance(rule, LazilyBuiltRule) for rule in rules)
    assert not any(_is_compiled(rule, "_build") or _is_compiled(rule, "_build_unknown") for rule in rules)


def test_every_rule_builds_the_urls_werkzeug_builds_and_keeps_its_builders(tmp_path: Path) -> None:
    application = _application(tmp_path)
    for rule in application.url_map.iter_rules():
        values = _values(rule)
        known = {name: value for name, value in values.items() if name in rule.arguments}
        expected = (
            Rule._compile_builder(rule, True).__get__(rule, None)(**values),
            Rule._compile_builder(rule, False).__get__(rule, None)(**known),
        )
        for _ in range(2):  # compiled at the first call, then the kept builder
            built = (rule.build(values, append_unknown=True), rule.build(known, append_unknown=False))
            assert built == expected, rule.rule
        assert _is_compiled(rule, "_build")
        assert _is_compiled(rule, "_build_unknown")
    # the application's own url_for, through the rules compiled above and through fresh ones
    for built in (application, _application(tmp_path)):
        with built.test_request_context("/"):
            assert url_for("cases.show", case_id=7, vista="acciones") == "/expedientes/7?vista=acciones"


def test_a_rule_variable_named_like_the_builders_own_argument_is_built(tmp_path: Path) -> None:
    application = _application(tmp_path)
    application.add_url_rule("/reglas/<rule>/<int:values>", "probe", lambda rule, values: "")
    with application.test_request_context("/"):
        assert url_for("probe", rule="uno", values=2, self="x") == "/reglas/uno/2?self=x"
