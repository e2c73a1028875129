"""Self-service registration of applicants (property owners, developers and their DROs)."""

from __future__ import annotations

from app.engine import InvalidData, Msg
from app.models import Role
from app.services.users import MIN_PASSWORD_LENGTH, RoleGrant, create_user, normalise_email


def register_applicant(display_name: str, email: str, password: str) -> int:
    """Create an applicant account and return its id (logged as an administrative audit entry).

    The password must have at least ``MIN_PASSWORD_LENGTH`` characters and differ from the e-mail
    address. Raises ``InvalidData`` for a missing name, a weak password or an e-mail already in use.
    """
    name = " ".join(display_name.split())
    if not name:
        raise InvalidData(Msg("Escriba su nombre completo."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidData(Msg("La contraseña debe tener al menos %(n)s caracteres.", {"n": str(MIN_PASSWORD_LENGTH)}))
    if password.strip().lower() == normalise_email(email):
        raise InvalidData(Msg("La contraseña no puede ser igual a su correo electrónico."))
    return create_user(email, name, password, [RoleGrant(Role.APPLICANT)])
