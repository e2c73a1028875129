"""Templates compiled once per language, with their constant texts translated in.

A template's ``{{ _('…') }}`` holding a text and nothing else (some seven hundred of the eight hundred ``_()`` in
the templates) gives the same words on every request in a language, yet Jinja reaches the translation through its
context's call machinery each time: some eight function calls, forty-eight times on a case page and six on every
page (the header). Here each template is compiled for each language it is rendered in (the language travels in
the template's name inside Jinja: ``es_MX::cases/show.html``; the loader reads ``cases/show.html``), and while it
is compiled such an expression becomes its translated text, which Jinja writes into the compiled template as static
output.

Only a text that reads the same escaped as it does as markup is put in (no ``<``, ``>``, ``&`` or quotes, and
%-formatting without variables succeeds, as the call would do it): the page is byte for byte what the call gave.
Any other use of ``_`` (with variables, inside a larger expression, a text holding markup) stays a call. Outside
a request (no language) templates are compiled as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

import flask_babel
from flask.templating import Environment
from jinja2 import BaseLoader, BytecodeCache, Template
from jinja2.bccache import Bucket
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    TOKEN_VARIABLE_BEGIN,
    TOKEN_VARIABLE_END,
    Token,
    TokenStream,
)
from markupsafe import Markup, escape

LANGUAGE_MARK = "::"
"""Between the language and the template's name in the names Jinja keeps compiled templates under."""

_MARKUP_CHARACTERS = frozenset("<>&\"'")
_CONSTANT_TEXT = (TOKEN_VARIABLE_BEGIN, TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN, TOKEN_VARIABLE_END)
"""The tokens of ``{{ _('text') }}``."""


def _language() -> str:
    """The current language as Flask-Babel selected it (or a forced one); ``""`` where there is none to select
    (no application context, or an application context without a request whose selector needs one): the
    template is then compiled as it is."""
    try:
        locale = flask_babel.get_locale()
    except RuntimeError:  # the language selector reads the request's session
        return ""
    return "" if locale is None else str(locale)


def translated_constant(msgid: str, language: str) -> str | None:
    """What ``{{ _(msgid) }}`` writes in ``language`` (the templates' own ``_()``,
    :func:`app.web.translation.text_markup`), when that is the same escaped or not; ``None`` when the text holds
    markup characters or does not %-format without variables (the call decides at render time)."""
    from app.web.translation import text_markup  # the web layer, loaded by then: templates compile in requests

    try:
        with flask_babel.force_locale(language):
            text = str(text_markup(msgid))
    except (KeyError, ValueError, TypeError):
        return None
    if not _MARKUP_CHARACTERS.isdisjoint(text):
        return None
    return text


class ConstantTexts(Extension):
    """Puts the translation of ``{{ _('text') }}`` into a template compiled for a language (its name says which)."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        """The template's tokens, each ``{{ _('text') }}`` turned into ``{{ 'translation' }}`` where that is exact."""
        language, mark, _ = (stream.name or "").rpartition(LANGUAGE_MARK)
        if not mark or not language:
            return stream
        return _translated_tokens(stream, language)


def _translated_tokens(tokens: Iterator[Token], language: str) -> Iterator[Token]:
    window: list[Token] = []
    for token in tokens:
        window.append(token)
        if len(window) < len(_CONSTANT_TEXT):
            continue
        if tuple(t.type for t in window) == _CONSTANT_TEXT and window[1].value == "_":
            text = translated_constant(window[3].value, language)
            if text is not None:
                yield window[0]
                yield Token(window[3].lineno, TOKEN_STRING, text)
                yield window[5]
                window = []
                continue
        yield window.pop(0)
    yield from window


class LanguageLoader(BaseLoader):
    """A loader that reads ``language::name`` as ``name`` from the loader it wraps."""

    def __init__(self, loader: BaseLoader) -> None:
        self.loader = loader

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        """The wrapped loader's source of the template, without its language."""
        return self.loader.get_source(environment, template.rpartition(LANGUAGE_MARK)[2])

    def list_templates(self) -> list[str]:
        """The wrapped loader's templates."""
        return self.loader.list_templates()


TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})
"""Markupsafe's escaping of a text as one ``str.translate`` (the same five characters, the same entities):
``text.translate(TEXT_ESCAPES)`` is ``str(escape(text))`` for a plain ``str``, where ``escape`` costs four
function calls and a ``Markup``. For the templates' output (:func:`output_escape`) and the values of the lines
the pages write into a format string (a queue's, a case's history and documents). Only for a plain ``str``: a
``Markup`` would be escaped a second time."""


def output_escape(value: Any) -> str:
    """What an autoescaping template writes for ``{{ value }}``: markupsafe's ``escape`` with its two common cases
    first. A ``Markup`` is written as it is (``escape`` gave an equal ``Markup`` after two more checks for
    ``__html__`` and a new object: six function calls); a plain ``str`` escaped by one ``str.translate``, the
    same characters and entities as markupsafe's; anything else by ``escape``. What the templates' output
    expressions return is only joined into the page or into a block's ``Markup``, so a plain ``str`` of escaped
    text writes the same page."""
    kind = type(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return] # a Markup is a str
    if kind is str:
        return value.translate(TEXT_ESCAPES)  # type: ignore[no-any-return]
    return escape(value)


class OutputEscaping(Template):
    """A compiled template whose output expressions escape through :func:`output_escape`."""

    @classmethod
    def _from_namespace(
        cls, environment: Any, namespace: MutableMapping[str, Any], globals: MutableMapping[str, Any]
    ) -> Template:
        # The compiled module imported Jinja's ``escape`` (markupsafe's) into its namespace, where its output
        # expressions look it up when they run: it is replaced there.
        namespace["escape"] = output_escape
        return super()._from_namespace(environment, namespace, globals)


class ProcessTemplates(BytecodeCache):
    """Compiled templates kept by the process for every application it builds, by name (language included) and
    the source's checksum: an application built after another finds them compiled. The test suite builds an
    application for each test, and compiling its pages' templates again (Jinja's lexer, parser and code
    generator, then Python's ``compile``) was about a tenth of its time. A server builds one application per
    process and keeps its own templates; it does not use this."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill ``bucket`` with the template's code kept for its key, if any (Jinja drops it when the source's
        checksum differs)."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code Jinja compiled into ``bucket``."""
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        """Forget every kept template."""
        self._code.clear()


PROCESS_TEMPLATES = ProcessTemplates()
"""The process's kept templates, for applications configured with ``SHARE_COMPILED_TEMPLATES``."""


class LanguageEnvironment(Environment):
    """Flask's template environment, keeping each template compiled per language (:mod:`app.templating`), its
    output expressions escaped by :func:`output_escape`; with the setting ``SHARE_COMPILED_TEMPLATES``, compiled
    templates are shared with the process's other applications (:data:`PROCESS_TEMPLATES`)."""

    template_class = OutputEscaping

    def __init__(self, app: Any, **options: Any) -> None:
        super().__init__(app, **options)
        if self.loader is not None:
            self.loader = LanguageLoader(self.loader)
        self.add_extension(ConstantTexts)
        if self.bytecode_cache is None and app.config.get("SHARE_COMPILED_TEMPLATES"):
            self.bytecode_cache = PROCESS_TEMPLATES

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        language = _language() if LANGUAGE_MARK not in name else ""
        return super()._load_template(f"{language}{LANGUAGE_MARK}{name}" if language else name, globals)
