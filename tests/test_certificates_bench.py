"""``bench/certificates_bench.py`` runs (``make bench``): it issues a licence from fields of its own, which must
stay those the licence's current format seals (a field added to the licence once broke the benchmark, and with
it ``make bench``, without any test noticing). One round of each comparison, no time checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_certificates_benchmark_issues_and_serves_a_licence() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "FLASK_"))}
    finished = subprocess.run(
        [sys.executable, "bench/certificates_bench.py", "--rounds", "1", "--serve-rounds", "2"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "ratio issue / bare render + sign:" in finished.stdout
    assert "ratio serve issued / serve static:" in finished.stdout
