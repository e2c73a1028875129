"""The password policy: length over composition, no common or breached passwords, nothing from the account.

In the spirit of OWASP ASVS 5.0 (V6.2): at least ``MIN_PASSWORD_LENGTH`` characters, at least
``MAX_PASSWORD_LENGTH`` allowed, any character allowed (no composition rules, no truncation), refused when it
is one of the most common passwords (``data/common_passwords.txt``, also with digits or symbols only added
around it) or contains the user's e-mail local part or a part of their name.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import cache
from pathlib import Path

from app.engine import InvalidData, Msg

MIN_PASSWORD_LENGTH = 12
"""The one definition of the minimum length (forms receive it from the views)."""

MAX_PASSWORD_LENGTH = 1024
"""Passphrases up to this many characters are accepted whole (argon2 hashes any length)."""

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
CONTEXT_WORDS = frozenset({"tramites", "municipio", "contraseña", "contrasena", "password"})
"""Words specific to this service that make a password easy to guess on it."""

_MIN_PERSONAL_PART = 4  # shorter name parts («Ana», «Luz») occur inside too many ordinary words
_PADDING = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lowercase), read once."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _fold(value: str) -> str:
    """Lowercase without accents, so that «José» and «jose» compare equal."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _personal_parts(email: str, display_name: str) -> set[str]:
    local = _fold(email.strip()).partition("@")[0]
    parts = set(re.split(r"[^a-z0-9]+", local)) | set(re.split(r"[^a-z0-9]+", _fold(display_name)))
    found = {p for p in parts if len(p) >= _MIN_PERSONAL_PART}
    return found | ({local} if len(local) >= 3 else set())


def password_problems(password: str, *, email: str = "", display_name: str = "") -> list[Msg]:
    """Every reason ``password`` is refused (empty when it is acceptable), as translatable messages."""
    problems: list[Msg] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Msg("La contraseña debe tener al menos %(n)s caracteres.", {"n": str(MIN_PASSWORD_LENGTH)}))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(Msg("La contraseña no puede tener más de %(n)s caracteres.", {"n": str(MAX_PASSWORD_LENGTH)}))
    folded = _fold(password)
    core = folded.strip(_PADDING)
    common = common_passwords()
    if folded in common or core in common or core in CONTEXT_WORDS or (len(set(folded)) <= 2 and folded):
        problems.append(Msg("Esa contraseña es de las más usadas o filtradas; elija otra más difícil de adivinar."))
    if email and folded.strip() == _fold(email.strip()):
        problems.append(Msg("La contraseña no puede ser igual a su correo electrónico."))
    elif any(part in folded for part in _personal_parts(email, display_name)):
        problems.append(Msg("La contraseña no puede contener su nombre ni su correo electrónico."))
    return problems


def check_password(password: str, *, email: str = "", display_name: str = "") -> None:
    """Raise ``InvalidData`` with the first reason ``password`` is refused; return when it is acceptable."""
    problems = password_problems(password, email=email, display_name=display_name)
    if problems:
        raise InvalidData(problems[0])
