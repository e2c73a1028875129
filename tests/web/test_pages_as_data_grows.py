"""Every page sends as many statements on a database with five times the history as on a small one (issue 16:
pages flat as the data grows), checked with the scale benchmark's generator and crawl (``bench/scale_bench.py``)
on two SQLite files: each GET route without parameters and an open case's page as a user of each role, as the
demo's staff and anonymously, the auditor's oversight pages with parameters, and the other procedures' pages
(an access request, a publication, a committee session, a request's tracking, a licence's verification…). A page
that reads row by row something that grows sends more statements on the larger file, however fast the machine;
the timings themselves stay in ``make bench``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.scale_bench import a_fire, build, unequal_statements


@pytest.mark.slow
def test_every_page_sends_as_many_statements_with_five_times_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", os.environ.get("SECRET_KEY") or "pages-as-data-grows")
    small = build("small", f"sqlite:///{tmp_path}/small.sqlite3", tmp_path, 1_000, 10_000, 50)
    large = build("large", f"sqlite:///{tmp_path}/large.sqlite3", tmp_path, 5_000, 50_000, 50)
    try:
        assert len(small.pages) == len(large.pages) > 900  # every role, the demo's staff, the public, the rest
        assert unequal_statements(small, large) == []
        # the benchmark's transition, on a case submitted through the services in each size
        for size in (small, large):
            step = a_fire(size)
            with size.app.app_context():
                moved = step()
            assert (moved.from_state, moved.to_state) == ("submitted", "intake_review")
    finally:
        from app.extensions import db

        for size in (small, large):
            with size.app.app_context():
                db.engine.dispose()
