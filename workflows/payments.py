"""Payment orders (formato de pago / línea de captura): the reference and its check digits. Standard library only.

A payment order's reference is the case's folio without its hyphens, the order's number on the case (two
digits) and two check digits computed as in ISO 7064 MOD 97-10 (the IBAN's): letters count as 10 (A) to 35
(Z), and the whole reference, read that way, leaves 1 when divided by 97. A mistyped or swapped character is
caught before anything is looked up, and the folio is read back from the reference itself:
``VECS-2026-000017``, first order → ``VECS202600001701`` + check digits.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"\A([A-Z]{2,8})(\d{4})(\d{6})(\d{2})(\d{2})\Z")
_FOLIO = re.compile(r"\A([A-Z]{2,8})-(\d{4})-(\d{6})\Z")


def _as_number(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text))


def check_digits(body: str) -> str:
    """The two MOD 97-10 check digits of ``body`` (digits and capital letters)."""
    return f"{98 - (_as_number(body) * 100) % 97:02d}"


def payment_reference(folio: str, order: int = 1) -> str:
    """The reference of the ``order``-th payment order of the case ``folio`` (``PREFIX-YYYY-NNNNNN``).

    Raises ``ValueError`` for a folio of another shape or an order outside 1–99."""
    match = _FOLIO.match(folio)
    if match is None or not 1 <= order <= 99:
        raise ValueError(f"cannot make a payment reference for {folio!r}, order {order}")
    body = f"{match[1]}{match[2]}{match[3]}{order:02d}"
    return body + check_digits(body)


def normalise_reference(typed: str) -> str:
    """A reference as typed (any case, with spaces or hyphens) in its canonical form."""
    return "".join(c for c in typed.upper() if c.isalnum())


def valid_reference(reference: str) -> bool:
    """Whether ``reference`` has the shape of a payment reference and its check digits are right."""
    return _SHAPE.match(reference) is not None and _as_number(reference) % 97 == 1


def folio_of(reference: str) -> str | None:
    """The folio a valid reference belongs to (``None`` when the reference is not valid)."""
    match = _SHAPE.match(reference)
    if match is None or not valid_reference(reference):
        return None
    return f"{match[1]}-{match[2]}-{match[3]}"
