"""What `make run` does, step by step, in fresh processes: migrate, load demo data, serve /healthz."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        DOCUMENTS_DIR=str(tmp_path / "documents"),
        APP_ENV="development",
    )
    env.pop("SECRET_KEY", None)
    return env


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _make_run_lines(port: int) -> list[str]:
    """The commands ``make run`` would execute with this interpreter's environment (``make -n``)."""
    venv = Path(sys.executable).parent.parent
    shown = subprocess.run(
        ["make", "-n", "run", f"VENV={venv}", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return shown.stdout.splitlines()


def test_migrate_load_and_serve(tmp_path: Path):
    env = _env(tmp_path)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    first = subprocess.run([*FLASK, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    assert b"admin@demo.gob.mx" in first.stdout
    again = subprocess.run([*FLASK, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    assert b"ya presentes" in again.stdout

    port = free_port()
    lines = _make_run_lines(port)
    assert any(f"http://127.0.0.1:{port}/" in line for line in lines), lines
    serve = [line for line in lines if "gunicorn" in line]
    assert len(serve) == 1, lines
    assert " run " not in serve[0], "make run must not use the development server"
    server = subprocess.Popen(
        shlex.split(serve[0]),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline:
            try:
                status, _ = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        ready, body = _get(f"http://127.0.0.1:{port}/readyz")
        assert ready == 200, body
        assert body == b'{"status":"ok"}\n', body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            server_header = response.headers.get("Server", "")
        assert server_header == "gunicorn", server_header  # no version, no Werkzeug, no Python
        login, page = _get(f"http://127.0.0.1:{port}/login")
        assert login == 200
        assert "Iniciar sesión".encode() in page
    finally:
        server.terminate()
        server.wait(timeout=20)
