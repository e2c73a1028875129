"""Translated texts for pages without Flask-Babel's look-ups on every call.

Flask-Babel resolves the locale and its catalogue again on each ``gettext`` (about 15 µs), and Jinja's i18n
extension reaches it through three nested context calls, creating derived contexts inside loops (about 25 µs
a ``_()`` in all). A case page calls it about a hundred times. Here each (locale, msgid) is translated once
per process, and the templates' ``_``/``gettext``/``ngettext`` take the evaluation context only, keeping the
i18n extension's "new style" rules: the text is always %-formatted with the keyword arguments, and escaped
values are interpolated into a safe string when autoescaping is on.

Dates are formatted by Babel through the same look-ups and a pattern walk (20-40 µs each); the templates'
``dateformat`` and ``datetimeformat`` keep each formatted (value, format, locale, time zone) instead, and
:func:`format_decimal` each formatted number.

Flask-WTF, for its part, reads WTForms' own catalogue from disk once per request that builds a form; the
request class here gives it the catalogue of the request's locale kept by the process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import flask_babel
from babel import Locale, support
from flask import Flask, Request
from flask.globals import _cv_app
from flask_babel import get_locale, get_timezone, get_translations
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup
from werkzeug.utils import cached_property
from wtforms.i18n import messages_path

MAX_KEPT = 20_000
"""Texts kept per process before the memo starts afresh (msgids are the program's own; this only guards
against a template translating data)."""

_WTFORMS: dict[Locale | None, support.NullTranslations] = {}
_CATALOGUES: dict[Locale | None, support.NullTranslations] = {}


class _Kept:
    """What the process keeps for one locale: texts (also as the templates' markup), plural texts, formatted
    dates and instants, and pieces of pages that depend only on the locale (:func:`kept_for_locale`)."""

    __slots__ = ("dates", "datetimes", "markups", "numbers", "pieces", "plurals", "texts")

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.markups: dict[str, Markup] = {}
        self.plurals: dict[tuple[str, str, int], str] = {}
        self.dates: dict[tuple[Any, ...], str] = {}
        self.datetimes: dict[tuple[Any, ...], str] = {}
        self.numbers: dict[tuple[str, str | None], str] = {}
        self.pieces: dict[Hashable, Any] = {}


_KEPT: dict[Locale | None, _Kept] = {}

_T = TypeVar("_T")


def _catalogue() -> support.NullTranslations:
    locale = get_locale()
    catalogue = _CATALOGUES.get(locale)
    if catalogue is None:
        catalogue = _CATALOGUES[locale] = get_translations()
    return catalogue


def _kept_in(store: dict[Any, _T], key: Any, make: Callable[[], _T]) -> _T:
    """``store[key]``, made by ``make()`` when missing (the store starts afresh once it holds ``MAX_KEPT``)."""
    kept = store.get(key)
    if kept is None:
        if len(store) >= MAX_KEPT:
            store.clear()
        kept = store[key] = make()
    return kept


def _babel_state() -> Any:
    """Flask-Babel's per-request state (where it keeps the locale it selected, or one forced with
    ``force_locale``, and the time zone), or ``None`` outside an application context or before its first
    look-up. Read from the application context's own variable: through the ``g`` proxy each look-up costs
    about 1 µs, directly about 0.1 µs, and a page asks this a hundred times or more."""
    context = _cv_app.get(None)
    return None if context is None else getattr(context.g, "_flask_babel", None)


def _kept() -> _Kept:
    """What is kept for the current locale. Flask-Babel's ``get_locale`` walks ``g`` through its proxy three
    times, and a :class:`babel.Locale` compares itself field by field with ``hasattr``: a page asks this a
    hundred times or more (a queue, several times a row), so the request's locale state also holds what is
    kept for that very locale object. Its attributes are read directly (not with ``getattr``, a call each):
    a state without them is the rare case."""
    context = _cv_app.get(None)
    try:
        state = context.g._flask_babel  # type: ignore[union-attr]
        held = state.kept_texts
        if held[0] is state.babel_locale:
            found: _Kept = held[1]  # annotated, not ``cast``: a call, and this runs a hundred times a page
            return found
    except AttributeError:  # no application context, no locale selected yet, or nothing kept for it yet
        state = _babel_state()
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return _kept_of(get_locale())
    kept = _kept_of(locale)
    state.kept_texts = (locale, kept)
    return kept


def _kept_of(locale: Locale | None) -> _Kept:
    kept = _KEPT.get(locale)
    if kept is None:
        kept = _KEPT[locale] = _Kept()
    return kept


def reader_language() -> str:
    """The language of the page being made (``es_MX``, ``en``): the one Flask-Babel selected or one forced with
    ``force_locale``; ``""`` where there is none. For choosing between the Spanish and English values an
    administrator entered (:func:`workflows.base.in_language`)."""
    locale = get_locale()
    return "" if locale is None else str(locale)


def translate(msgid: str) -> str:
    """``msgid`` in the current locale (the locale Flask-Babel selected or one forced with ``force_locale``)."""
    texts = _kept().texts
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


def text_markup(msgid: str, /, **variables: Any) -> Markup:
    """What the templates' ``_()`` gives with autoescaping on: the translation of ``msgid`` as markup (the
    program's own catalogue), %-formatted with the escaped ``variables``. Without variables the markup is kept
    per locale."""
    if variables:
        return Markup(translate(msgid)) % variables  # noqa: S704 - the program's own catalogue
    markups = _kept().markups
    markup = markups.get(msgid)
    if markup is None:
        if len(markups) >= MAX_KEPT:
            markups.clear()
        # %-formatted even without variables, as Jinja's i18n does ("%%" gives "%")
        markup = markups[msgid] = Markup(translate(msgid)) % {}  # noqa: S704 - the program's own catalogue
    return markup


def _plural(singular: str, plural: str, num: int) -> str:
    return _kept_in(
        _kept().plurals, (singular, plural, num), lambda: str(_catalogue().ungettext(singular, plural, num))
    )


def plural_markup(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    """What the templates' ``ngettext()`` gives with autoescaping on: the plural form for ``num`` as markup,
    %-formatted with ``num`` and the escaped ``variables``."""
    variables.setdefault("num", num)
    return Markup(_plural(singular, plural, num)) % variables  # noqa: S704 - the program's own catalogue


def kept_for_locale(key: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``, kept per process for the current locale under ``key``: for pieces of pages built only from
    the program's texts and values shown the same to everyone (a state's label, a formatted day), never from
    a request's or a person's values."""
    piece: _T = _kept_in(_kept().pieces, key, make)
    return piece


def kept_pieces() -> dict[Hashable, Any]:
    """What :func:`kept_for_locale` keeps for the current locale, by key: a loop over a list's rows looks its
    pieces up here (one dictionary look-up each) and makes only the missing ones (:func:`locale_memo`)."""
    return _kept().pieces


def locale_memo() -> Callable[[Hashable, Callable[[], Any]], Any]:
    """:func:`kept_for_locale` bound to the current locale, for a loop that asks it many times (a list's rows):
    the locale is looked up once."""
    pieces = kept_pieces()
    return lambda key, make: _kept_in(pieces, key, make)


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, msgid: str, /, **variables: Any) -> str:
    if eval_ctx.autoescape:
        return text_markup(msgid, **variables)
    return translate(msgid) % variables


@pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    if eval_ctx.autoescape:
        return plural_markup(singular, plural, num, **variables)
    variables.setdefault("num", num)
    return _plural(singular, plural, num) % variables


def format_date(value: date | datetime | None = None, format: str | None = None) -> str:
    """Flask-Babel's ``format_date``, kept per (date, format, locale) for a date."""
    if type(value) is not date:
        return str(flask_babel.format_date(value, format))
    return _kept_in(_kept().dates, (value, format), lambda: str(flask_babel.format_date(value, format)))


def format_datetime(value: datetime | None = None, format: str | None = None) -> str:
    """Flask-Babel's ``format_datetime`` (in the user's time zone), kept per (instant, format, locale, zone)."""
    if value is None:
        return str(flask_babel.format_datetime(value, format))
    zone = getattr(_babel_state(), "babel_tzinfo", None) or get_timezone()
    return _kept_in(_kept().datetimes, (zone, value, format), lambda: str(flask_babel.format_datetime(value, format)))


def format_decimal(number: Decimal, format: str | None = None) -> str:
    """Flask-Babel's ``format_decimal``, kept per (number as written, format, locale): a case page formats its
    areas and amounts, and a table of fees the same few rates, on every view."""
    return _kept_in(_kept().numbers, (str(number), format), lambda: str(flask_babel.format_decimal(number, format)))


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
