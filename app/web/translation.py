"""Translated texts for pages without Flask-Babel's look-ups on every call.

Flask-Babel resolves the locale and its catalogue again on each ``gettext`` (about 15 µs), and Jinja's i18n
extension reaches it through three nested context calls, creating derived contexts inside loops (about 25 µs
a ``_()`` in all). A case page calls it about a hundred times. Here each (locale, msgid) is translated once
per process, and the templates' ``_``/``gettext``/``ngettext`` take the evaluation context only, keeping the
i18n extension's "new style" rules: the text is always %-formatted with the keyword arguments, and escaped
values are interpolated into a safe string when autoescaping is on.

Dates are formatted by Babel through the same look-ups and a pattern walk (20-40 µs each); the templates'
``dateformat`` and ``datetimeformat`` keep each formatted (value, format, locale, time zone) instead.

Flask-WTF, for its part, reads WTForms' own catalogue from disk once per request that builds a form; the
request class here gives it the catalogue of the request's locale kept by the process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, cast

import flask_babel
from babel import Locale, support
from flask import Flask, Request, g
from flask_babel import get_locale, get_timezone, get_translations
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from werkzeug.utils import cached_property
from wtforms.i18n import messages_path

MAX_KEPT = 20_000
"""Texts kept per process before the memo starts afresh (msgids are the program's own; this only guards
against a template translating data)."""

_TEXTS: dict[Locale | None, dict[str, str]] = {}
_WTFORMS: dict[Locale | None, support.NullTranslations] = {}
_FORMATTED: dict[tuple[Any, ...], str] = {}
_CATALOGUES: dict[Locale | None, support.NullTranslations] = {}


def _catalogue() -> support.NullTranslations:
    locale = get_locale()
    catalogue = _CATALOGUES.get(locale)
    if catalogue is None:
        catalogue = _CATALOGUES[locale] = get_translations()
    return catalogue


def _kept(store: dict[Any, str], key: Any, make: Callable[[], str]) -> str:
    text = store.get(key)
    if text is None:
        if len(store) >= MAX_KEPT:
            store.clear()
        text = store[key] = make()
    return text


def _texts() -> dict[str, str]:
    """The kept texts of the current locale. Flask-Babel's ``get_locale`` walks ``g`` through its proxy
    three times, and a :class:`babel.Locale` compares itself field by field with ``hasattr``: a page asks
    this about a hundred times, so the request's locale state (where Flask-Babel keeps the locale it selected,
    or one forced with ``force_locale``) also holds the texts of that very locale object."""
    try:
        state = g.get("_flask_babel")
    except RuntimeError:  # outside an application context: Flask-Babel answers ``None``
        state = None
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return _texts_of(get_locale())
    held = getattr(state, "kept_texts", None)
    if held is not None and held[0] is locale:
        return cast(dict[str, str], held[1])
    texts = _texts_of(locale)
    state.kept_texts = (locale, texts)
    return texts


def _texts_of(locale: Locale | None) -> dict[str, str]:
    texts = _TEXTS.get(locale)
    if texts is None:
        texts = _TEXTS[locale] = {}
    return texts


def translate(msgid: str) -> str:
    """``msgid`` in the current locale (the locale Flask-Babel selected or one forced with ``force_locale``)."""
    texts = _texts()
    text = texts.get(msgid)
    if text is None:
        if len(texts) >= MAX_KEPT:
            texts.clear()
        text = texts[msgid] = str(_catalogue().ugettext(msgid))
    return text


def gettext(msgid: str, **variables: Any) -> str:
    """Flask-Babel's ``gettext``: the translation of ``msgid``, %-formatted with ``variables`` when given."""
    text = translate(msgid)
    return text % variables if variables else text


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, msgid: str, /, **variables: Any) -> str:
    text = translate(msgid)
    if eval_ctx.autoescape:
        return Markup(text) % variables  # noqa: S704 - the program's own catalogue, as Jinja's i18n treats it
    return text % variables


@pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    text = str(_catalogue().ungettext(singular, plural, num))
    if eval_ctx.autoescape:
        return Markup(text) % variables  # noqa: S704 - the program's own catalogue, as Jinja's i18n treats it
    return text % variables


def format_date(value: date | datetime | None = None, format: str | None = None) -> str:
    """Flask-Babel's ``format_date``, kept per (date, format, locale) for a date."""
    if type(value) is not date:
        return str(flask_babel.format_date(value, format))
    return _kept(_FORMATTED, ("date", get_locale(), value, format), lambda: str(flask_babel.format_date(value, format)))


def format_datetime(value: datetime | None = None, format: str | None = None) -> str:
    """Flask-Babel's ``format_datetime`` (in the user's time zone), kept per (instant, format, locale, zone)."""
    if value is None:
        return str(flask_babel.format_datetime(value, format))
    key = ("datetime", get_locale(), get_timezone(), value, format)
    return _kept(_FORMATTED, key, lambda: str(flask_babel.format_datetime(value, format)))


class TranslatedRequest(Request):
    """A request that hands Flask-WTF the WTForms catalogue of its locale, loaded once per process."""

    @cached_property
    def wtforms_translations(self) -> support.NullTranslations:
        """WTForms' messages (a required field, a bad choice…) in the request's language."""
        locale = get_locale()
        catalogue = _WTFORMS.get(locale)
        if catalogue is None:
            catalogue = support.Translations.load(messages_path(), [locale] if locale else None, domain="wtforms")
            _WTFORMS[locale] = catalogue
        return catalogue


def install_translations(app: Flask) -> None:
    """Replace the templates' translation functions and date filters that Flask-Babel installed by the
    memoised ones, and make requests carry the memoised WTForms catalogue."""
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.filters.update(dateformat=format_date, datetimeformat=format_datetime)
    app.request_class = TranslatedRequest
