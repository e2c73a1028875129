"""URL rules whose builders are compiled when first used.

Werkzeug compiles two Python functions for every rule as the rule is added (``Rule._compile_builder``: one that
appends unknown values as a query string, one that does not), by writing their syntax tree and compiling it.
For the application's 130-odd rules that was about two thirds of building the application, although a process
builds URLs for only some of its endpoints, and the builders serve only ``url_for``: matching a request uses
the rule's parsed parts, which are still made when the rule is added. Here each builder is
compiled the first time its rule builds a URL, by Werkzeug's own code, and kept on the rule as Werkzeug keeps
it; the URLs are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazilyBuiltRule(Rule):
    """A :class:`werkzeug.routing.Rule` whose two URL builders are compiled by Werkzeug on their first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_builder = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_on_first_use(rule: Rule, /, **values: Any) -> tuple[str, str]:
            built: Callable[..., tuple[str, str]] = compile_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, built)  # as Rule.compile() would have set it
            return built(**values)

        return build_on_first_use
