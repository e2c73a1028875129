"""How much the fuzz tests try: a quick pass inside the suite, a long one for soak runs.

``FUZZ_PROFILE=soak`` multiplies every test's examples by ``FUZZ_SOAK_FACTOR`` (default 40) and relaxes the
per-example deadline; run ``pytest tests/fuzz --hypothesis-show-statistics`` to see the inputs tried. The
deadline is the hang detector: an example slower than it fails (on a second slow run) instead of waiting.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("FUZZ_PROFILE", "quick")
if PROFILE not in ("quick", "soak"):
    raise RuntimeError(f"FUZZ_PROFILE must be 'quick' or 'soak', not {PROFILE!r}")
SOAK_FACTOR = int(os.environ.get("FUZZ_SOAK_FACTOR", "40"))


def fuzz(examples: int, deadline_seconds: float = 10.0) -> settings:
    """Settings for a fuzz test that tries ``examples`` inputs in the suite (more in a soak run).

    Function-scoped fixtures (the application, its database) are shared by the examples of one test on
    purpose: the properties hold whatever earlier examples left behind.
    """
    soak = PROFILE == "soak"
    return settings(
        max_examples=examples * SOAK_FACTOR if soak else examples,
        deadline=timedelta(seconds=deadline_seconds * (3 if soak else 1)),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
