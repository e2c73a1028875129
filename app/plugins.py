"""Procedures with machinery of their own plug it in here: their pages, their commands, what the periodic tick
must do for them and the links on the home page. Each installed procedure that declares a ``plugin`` module
(``Procedure.plugin`` in ``workflows``) exposes a :class:`Plugin` named ``PLUGIN``; generic code iterates over
:func:`installed` and never names a procedure."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import click
from flask import Blueprint

from workflows import REGISTRY


@dataclass(frozen=True, slots=True)
class Link:
    """A link on the home page, shown to people holding one of ``roles`` (everyone signed in when empty)."""

    endpoint: str
    label: Any
    roles: frozenset[str] = frozenset()

    def shown_to(self, roles: Iterable[str]) -> bool:
        """Whether a person with ``roles`` sees the link."""
        return not self.roles or bool(self.roles & set(roles))


@dataclass(frozen=True)
class Plugin:
    """What a procedure adds to the application besides its declaration.

    - ``blueprints``: its pages;
    - ``commands``: ``flask`` command groups or commands;
    - ``tick``: work the periodic ``permits tick`` does for it before firing timers (returns lines to print);
    - ``title`` and ``links``: its panel on the home page;
    - ``public_links``: its pages for anyone, with or without an account (public endpoints; their ``roles`` are
      not read): the site footer and the login page show them."""

    procedure: str
    blueprints: tuple[Blueprint, ...] = ()
    commands: tuple[click.Command, ...] = ()
    tick: tuple[Callable[[], list[str]], ...] = ()
    title: Any = ""
    links: tuple[Link, ...] = field(default_factory=tuple)
    public_links: tuple[Link, ...] = ()

    def links_for(self, roles: Iterable[str]) -> list[Link]:
        """The home-page links a person with ``roles`` sees."""
        held = set(roles)
        return [link for link in self.links if link.shown_to(held)]


def load(dotted: str) -> Plugin:
    """The ``PLUGIN`` of module ``dotted``. Raises ``LookupError`` when the module or its plugin is missing."""
    try:
        module = importlib.import_module(dotted)
    except ImportError as exc:
        raise LookupError(f"plug-in module {dotted!r} cannot be imported: {exc}") from exc
    plugin = getattr(module, "PLUGIN", None)
    if not isinstance(plugin, Plugin):
        raise LookupError(f"plug-in module {dotted!r} has no PLUGIN")
    return plugin


@cache
def installed() -> tuple[Plugin, ...]:
    """The plug-ins of the installed procedures, in installation order. Raises ``LookupError`` when a
    procedure names a plug-in that is not there or belongs to another procedure."""
    plugins: list[Plugin] = []
    for procedure in REGISTRY:
        if procedure.plugin is None:
            continue
        plugin = load(procedure.plugin)
        if plugin.procedure != procedure.name:
            raise LookupError(f"plug-in {procedure.plugin!r} belongs to {plugin.procedure!r}, not {procedure.name!r}")
        plugins.append(plugin)
    return tuple(plugins)


def public_links() -> tuple[Link, ...]:
    """The links of the installed procedures to their pages for anyone (``Plugin.public_links``), in
    installation order."""
    return tuple(link for plugin in installed() for link in plugin.public_links)
