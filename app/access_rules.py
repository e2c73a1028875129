"""The access rule every endpoint declares (shared by the web and API layers, which may not import each other).

A rule says who may *reach* an endpoint: everyone (``public``), any logged-in user (``authenticated``) or the
holders of some roles (``roles``). What each user then sees of a case, a document or a certificate is decided
per object in :mod:`app.services.visibility`. An endpoint without a rule is refused (deny by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.models import Role

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may use a view: everyone (``public``), any logged-in user, or the holders of ``roles``."""

    public: bool = False
    roles: frozenset[Role] | None = None

    @property
    def kind(self) -> str:
        """``public``, ``authenticated`` or ``roles``."""
        if self.public:
            return "public"
        return "authenticated" if self.roles is None else "roles"

    def admits(self, roles: frozenset[str] | None) -> bool:
        """Whether a visitor holding ``roles`` may reach the endpoint (``None``: not logged in)."""
        if self.public:
            return True
        if roles is None:
            return False
        return self.roles is None or bool(roles & {r.value for r in self.roles})

    def describe(self) -> str:
        """A short text for the permission matrix: ``public``, ``authenticated`` or the roles, sorted."""
        if self.roles is None:
            return self.kind
        return ", ".join(sorted(r.value for r in self.roles))


def mark(view: Callable[..., Any], rule: AccessRule) -> None:
    """Record ``rule`` on ``view`` (as ``view.access_rule``)."""
    view.access_rule = rule  # type: ignore[attr-defined]


def rule_of(view: Callable[..., Any]) -> AccessRule | None:
    """The access rule a view declared, or ``None`` when it declared none."""
    rule = getattr(view, "access_rule", None)
    return rule if isinstance(rule, AccessRule) else None


def public(view: F) -> F:
    """Anyone may use the view, without logging in."""
    mark(view, AccessRule(public=True))
    return view
