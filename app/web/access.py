"""Access rules for views: every view declares who may use it (the written permission matrix is enforced here
and, per object and per action, in :mod:`app.services.visibility` and the engine).

- :func:`public` — anyone, logged in or not (verification pages, public registries, health checks);
- :func:`authenticated` — any logged-in user (their own home page, their notices);
- :func:`roles_required` — logged-in users holding one of the roles (others get 403).

Each decorator records the rule on the view as ``access_rule`` so that the rules can be listed and checked;
:func:`install_default_deny` refuses every endpoint that declared none (deny by default).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_babel import gettext
from flask_login import current_user, login_required

from app.access_rules import AccessRule, mark, public, rule_of
from app.models import Role
from app.web.labels import role_label

__all__ = [
    "AccessRule",
    "authenticated",
    "install_default_deny",
    "public",
    "roles_required",
    "rule_of",
    "undeclared_endpoints",
]

F = TypeVar("F", bound=Callable[..., Any])


def authenticated(view: F) -> F:
    """Any logged-in user may use the view (what they see is still limited to their own data)."""
    wrapped = login_required(view)
    mark(wrapped, AccessRule())
    return wrapped  # type: ignore[no-any-return]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Only logged-in users holding one of ``roles`` may use the view (others get 403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(role) for role in roles):
                abort(403, description=roles_refusal(roles))
            return view(*args, **kwargs)

        mark(wrapped, AccessRule(roles=frozenset(roles)))
        return wrapped  # type: ignore[return-value]

    return decorator


def roles_refusal(roles: tuple[Role, ...] | frozenset[Role]) -> str:
    """What a person refused by role can do: which roles may use the page and which ones they hold."""
    allowed = ", ".join(sorted(role_label(role) for role in roles))
    held = ", ".join(sorted(role_label(Role(name)) for name in current_user.role_names)) or gettext("ninguno")
    return str(
        gettext(
            "Esta página es para quien tiene el rol %(allowed)s; su cuenta tiene: %(held)s. Si su trabajo lo requiere, "
            "pida a la administración que le asigne el rol.",
            allowed=allowed,
            held=held,
        )
    )


def _exempt(endpoint: str) -> bool:
    # Static files are public by nature (style sheets, fonts); they carry no data.
    return endpoint == "static" or endpoint.endswith(".static")


def undeclared_endpoints(app: Flask) -> list[str]:
    """The endpoints of ``app`` whose view declares no access rule (static files excepted), sorted."""
    return sorted(
        endpoint for endpoint, view in app.view_functions.items() if not _exempt(endpoint) and rule_of(view) is None
    )


def install_default_deny(app: Flask) -> None:
    """Refuse (403) every request to an endpoint whose view declares no access rule."""

    @app.before_request
    def _deny_undeclared() -> None:
        endpoint = request.endpoint
        if endpoint is None or _exempt(endpoint):
            return  # routing failed (404/405 follow) or a static file
        view = current_app.view_functions.get(endpoint)
        if view is None or rule_of(view) is None:
            current_app.logger.warning("access denied: endpoint %s declares no access rule", endpoint)
            abort(403)
