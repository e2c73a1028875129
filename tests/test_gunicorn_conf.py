"""``gunicorn.conf.py``: read by gunicorn from the checkout, it preloads the application and freezes what the
master made out of the garbage collector's sight before each fork."""

from __future__ import annotations

import gc
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_reads_the_settings_from_the_checkout() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "--check-config", "wsgi:app"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    settings = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip() for line in shown.splitlines() if "=" in line
    }
    assert settings["config"] == "./gunicorn.conf.py"
    assert settings["preload_app"] == "True"


def test_the_master_freezes_what_it_made_before_each_fork() -> None:
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True
    gc.unfreeze()
    try:
        settings["when_ready"](None)
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the test process's modules and objects, as the master's preloaded application
        made_since = [[n] for n in range(500)]  # tracked containers the master allocates between forks
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() >= frozen + len(made_since)
    finally:
        gc.unfreeze()


def test_the_preloaded_application_brings_the_statutory_holidays() -> None:
    """In a fresh interpreter (the suite's own has loaded them long ago): importing ``wsgi``, as gunicorn's master
    does before forking, loads the ``holidays`` package's country tables, so the workers share them."""
    check = (
        "import sys\n"
        "import wsgi\n"
        "assert 'holidays.countries.mexico' in sys.modules\n"
        "from app.calendar.business_days import _statutory\n"
        "assert _statutory.cache_info().currsize == 3, _statutory.cache_info()\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, timeout=120)


def test_the_preloaded_application_leaves_out_what_only_first_use_needs() -> None:
    """Importing ``wsgi`` in a fresh interpreter loads neither the PDF renderer nor the signer (loaded when a
    certificate is first issued or checked) nor the PDF parser (only the uploads' check imports it, in a child
    process of its own): none of them is in every process's start-up and memory."""
    check = (
        "import sys\n"
        "import wsgi\n"
        "loaded = sorted(name for name in ('weasyprint', 'pyhanko', 'pypdf') if name in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True, timeout=120)
