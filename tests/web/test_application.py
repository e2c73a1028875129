"""The application class (``app.Application``): Flask's own, with the synchronous form of each view and hook
kept per function instead of inspected on every request."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from flask import Flask

from app import MAX_SYNC_KEPT, Application


def _plain() -> str:
    return "llano"


class _Hook:
    def method(self) -> str:
        return "método"


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> str:
        return "sin hash"


async def _coroutine() -> str:
    return "asíncrona"


def test_the_factory_builds_an_application(app: Flask) -> None:
    assert isinstance(app, Application)


def test_each_function_is_answered_as_flask_answers_it_and_kept() -> None:
    application, flask = Application("prueba"), Flask("prueba")
    hook = _Hook()
    for func in (_plain, hook.method, functools.partial(_plain), _Unhashable(), lambda: "lambda"):
        assert application.ensure_sync(func) is flask.ensure_sync(func)
        assert application.ensure_sync(func)() == func()
    assert application._sync_kept[_plain] is _plain
    assert application._sync_kept[hook.method] == hook.method  # an equal bound method finds it


def test_a_coroutine_function_is_refused_or_wrapped_as_flask_does() -> None:
    application, flask = Application("prueba"), Flask("prueba")
    try:
        expected: Any = flask.ensure_sync(_coroutine)()
    except RuntimeError as error:  # Flask without its async extra
        with pytest.raises(RuntimeError, match=str(error)[:20]):
            application.ensure_sync(_coroutine)
        assert _coroutine not in application._sync_kept
        return
    assert application.ensure_sync(_coroutine)() == expected == "asíncrona"
    assert application.ensure_sync(_coroutine) is application.ensure_sync(_coroutine)


def test_what_is_kept_stays_bounded() -> None:
    application = Application("prueba")
    functions = [functools.partial(_plain) for _ in range(MAX_SYNC_KEPT + 10)]
    for func in functions:
        assert application.ensure_sync(func) is func
    assert len(application._sync_kept) <= MAX_SYNC_KEPT
