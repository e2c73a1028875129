"""The canonical form of numbers refuses what no decimal of the engine can carry, instead of raising."""

from __future__ import annotations

from workflows.procedure import canonical_number


def test_numbers_take_their_canonical_form() -> None:
    assert canonical_number("1,500.5", 2) == "1500.50"
    assert canonical_number(" 850 ", 2) == "850.00"
    assert canonical_number("0.005", 2) == "0.01"
    assert canonical_number("12", None) == "12"


def test_what_is_not_a_usable_number_is_none() -> None:
    for value in ("1e40", "-1e40", "9" * 40, "NaN", "inf", "", "abc", True, None):
        assert canonical_number(value, 2) is None, value
    assert canonical_number("1e-400", 2) == "0.00"  # tiny is zero to two places
    assert canonical_number("1e400", None) is None
    assert canonical_number("1e-400", None) is None
