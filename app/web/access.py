"""Access rules for views: every view declares who may use it (the written permission matrix is enforced here
and, per object and per action, in the services and the engine).

- :func:`public` — anyone, logged in or not (verification pages, public registries, health checks);
- :func:`authenticated` — any logged-in user (their own home page, their notices);
- :func:`roles_required` — logged-in users holding one of the roles (others get 403).

Each decorator records the rule on the view as ``access_rule`` so that the rules can be listed and checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

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


def _mark(view: Callable[..., Any], rule: AccessRule) -> None:
    view.access_rule = rule  # type: ignore[attr-defined]


def rule_of(view: Callable[..., Any]) -> AccessRule | None:
    """The access rule a view declared, or ``None`` when it declared none."""
    rule = getattr(view, "access_rule", None)
    return rule if isinstance(rule, AccessRule) else None


def public(view: F) -> F:
    """Anyone may use the view, without logging in."""
    _mark(view, AccessRule(public=True))
    return view


def authenticated(view: F) -> F:
    """Any logged-in user may use the view (what they see is still limited to their own data)."""
    wrapped = login_required(view)
    _mark(wrapped, AccessRule())
    return wrapped  # type: ignore[no-any-return]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Only logged-in users holding one of ``roles`` may use the view (others get 403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        _mark(wrapped, AccessRule(roles=frozenset(roles)))
        return wrapped  # type: ignore[return-value]

    return decorator
