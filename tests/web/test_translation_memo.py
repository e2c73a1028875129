"""Templates translate through a per-process memo (app.web.translation): same texts as Flask-Babel gives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from flask import Flask, render_template_string
from flask_babel import force_locale
from flask_babel import format_date as babel_format_date
from flask_babel import format_datetime as babel_format_datetime
from flask_babel import format_decimal as babel_format_decimal
from flask_babel import gettext as babel_gettext

from app.web.translation import format_decimal, gettext, translate


def test_the_memo_answers_per_locale_and_formats_like_flask_babel(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        assert translate("Historial") == "Historial"
        with force_locale("en"):
            assert translate("Historial") == "History" == babel_gettext("Historial")
            assert gettext("Listo: %(action)s.", action="x") == babel_gettext("Listo: %(action)s.", action="x")
        assert translate("Historial") == "Historial"  # the English answer was not kept for Spanish


def test_template_texts_escape_their_values_and_count_plurals(app: Flask) -> None:
    source = (
        "{{ _('Listo: %(action)s.', action=value) }}|"
        "{{ ngettext('%(num)s versión anterior', '%(num)s versiones anteriores', n) }}|{{ _('100%% seguro') }}"
    )
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        with force_locale("en"):
            english = render_template_string(source, value="<b>", n=2)
        spanish = render_template_string(source, value="<b>", n=1)
    assert english.split("|")[0] == "Done: &lt;b&gt;."
    assert english.split("|")[1] == "2 earlier versions"
    assert spanish.split("|") == ["Listo: &lt;b&gt;.", "1 versión anterior", "100% seguro"]


def test_kept_dates_read_as_flask_babel_formats_them_in_each_language(app: Flask) -> None:
    day = date(2026, 3, 9)
    instant = datetime(2026, 3, 9, 2, 30, tzinfo=UTC)  # still 8 March in Mexico City
    source = "{{ day|dateformat('long') }}|{{ instant|datetimeformat('medium') }}"
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        spanish = render_template_string(source, day=day, instant=instant)
        assert spanish == f"{babel_format_date(day, 'long')}|{babel_format_datetime(instant, 'medium')}"
        with force_locale("en"):
            english = render_template_string(source, day=day, instant=instant)
            assert english == f"{babel_format_date(day, 'long')}|{babel_format_datetime(instant, 'medium')}"
    assert "marzo" in spanish
    assert "March" in english
    assert "8" in spanish.split("|")[1]


def test_kept_plurals_and_dates_follow_a_forced_locale_and_come_back(app: Flask) -> None:
    source = (
        "{{ ngettext('%(num)s versión anterior', '%(num)s versiones anteriores', n) }}|{{ day|dateformat('long') }}"
    )
    day = date(2026, 3, 9)
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        before = render_template_string(source, n=2, day=day)
        with force_locale("en"):
            english = render_template_string(source, n=2, day=day)
        after = render_template_string(source, n=2, day=day)
        spanish_day = babel_format_date(day, "long")
    assert before == after == f"2 versiones anteriores|{spanish_day}"
    assert english.startswith("2 earlier versions|")
    assert "March" in english


def test_a_renders_texts_are_those_of_its_own_locale_however_many_renders_came_before(app: Flask) -> None:
    source = "{{ _('Historial') }}|{{ _('Historial') }}|{% for n in range(2) %}{{ _('Historial') }}{% endfor %}"
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        first = render_template_string(source)
        with force_locale("en"):
            english = render_template_string(source)
            english_again = render_template_string(source)
        after = render_template_string(source)
    assert first == after == "Historial|Historial|HistorialHistorial"
    assert english == english_again == "History|History|HistoryHistory"


def test_texts_of_a_macro_imported_without_context_follow_each_renders_locale(app: Flask) -> None:
    """A template imported without context keeps one module (and its evaluation context) across renders and
    requests: its texts must still be those of the locale of the render that calls it."""
    source = "{% from 'cases/_macros.html' import legal_term %}{{ legal_term(term) }}"
    term = SimpleNamespace(description="Plazo legal de resolución", overdue=False, paused=False, due_on=None)
    with app.test_request_context("/", headers={"Accept-Language": "es-MX"}):
        spanish = render_template_string(source, term=term)
        with force_locale("en"):
            english = render_template_string(source, term=term)
            concluded = babel_gettext("Concluido")
        spanish_again = render_template_string(source, term=term)
    assert "Concluido" in spanish
    assert spanish_again == spanish
    assert concluded != "Concluido"
    assert concluded in english
    assert "Concluido" not in english


def test_kept_numbers_read_as_flask_babel_formats_them_in_each_language(app: Flask) -> None:
    numbers = [Decimal("1500.5"), Decimal("1500.50"), Decimal("0.125"), Decimal("-1234567.891"), Decimal("7")]
    for locale in ("es_MX", "de", "en", "es_MX"):  # German writes 1.500,5: a number kept for another language shows
        # a fresh application context each time: Flask-Babel keeps the locale it selected on ``g``
        with app.app_context(), app.test_request_context("/"), force_locale(locale):
            for number in numbers:
                for pattern in (None, "#,##0.00"):
                    for _ in range(2):  # worked out, then from what was kept
                        assert format_decimal(number, pattern) == str(babel_format_decimal(number, format=pattern))
    with app.app_context(), app.test_request_context("/"), force_locale("en"):
        assert format_decimal(Decimal("1500.50"), "#,##0.00") == "1,500.50"
