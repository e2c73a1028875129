"""``bench/bundle_bench.py`` runs (``make bench``): it builds a log written in both bundle formats, which the
standalone verifier must accept as verified (a bundle it refuses stops the benchmark). One small round, no time or
memory checked: the memory is checked in process by ``tests/audit/test_bundle_format_2.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_bundle_benchmark_verifies_both_formats() -> None:
    finished = subprocess.run(
        [sys.executable, "bench/bundle_bench.py", "--entries", "40", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # the process's memory at 40 and 160 entries is the interpreter's either way: within the 1.1x it checks
    assert finished.returncode == 0, (finished.stdout + finished.stderr)[-3000:]
    assert "peak memory, 160 against 40 entries, format 2:" in finished.stdout
    assert "format 2 memory flat as the log grows (target: within 1.1x): met" in finished.stdout
