"""What `make run` does, step by step, in fresh processes: migrate, load demo data, serve /healthz; and what it
starts beside the server: the timers' worker and, with no mail server named, a local one whose messages (an
address's confirmation link) a person trying the product can follow."""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

from tests.support.postgres import free_port
from tests.web.helpers import hidden_value

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


def _make_run_lines(port: int, *settings: str) -> list[str]:
    """The commands ``make run`` would execute with this interpreter's environment (``make -n``), a command
    continued over several lines (``\\``) as one."""
    venv = Path(sys.executable).parent.parent
    shown = subprocess.run(
        ["make", "-n", "run", f"VENV={venv}", "HOST=127.0.0.1", f"PORT={port}", *settings],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return shown.stdout.replace("\\\n", " ").splitlines()


def _gunicorn(line: str) -> list[str]:
    """The server's own command within ``make run``'s last line (which starts the worker and the mail first)."""
    found = re.search(r"(\S*/gunicorn .*?wsgi:app)", line)
    assert found is not None, line
    return shlex.split(found.group(1))


def _wait_for(url: str, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return _get(url)[0]
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


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
        _gunicorn(serve[0]),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/healthz") == 200
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


def _browser() -> urllib.request.OpenerDirector:
    """A client that keeps its cookies, as a browser does."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _page(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None) -> tuple[str, str]:
    """(the address reached after redirects, the page's text) of a GET, or of a POST of ``form``."""
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    with opener.open(url, body, timeout=10) as response:
        return response.url, html.unescape(response.read().decode())


def _register(base: str, email: str) -> None:
    """Register ``email`` through the page, as a browser would (its cookie and the form's token)."""
    opener = _browser()
    _, page = _page(opener, f"{base}/registro")
    form = {
        "csrf_token": hidden_value(page, "csrf_token", "/registro"),
        "form_key": hidden_value(page, "form_key", "/registro"),
        "display_name": "Ana Prueba",
        "email": email,
        "password": "Una-Clave-Larga-2026!",
        "confirm": "Una-Clave-Larga-2026!",
    }
    reached, _ = _page(opener, f"{base}/registro", form)
    assert urllib.parse.urlparse(reached).path != "/registro", "the registration was refused"


def test_make_run_starts_the_timers_worker_and_a_local_mailbox_whose_links_work(tmp_path: Path):
    """The last line of ``make run``, run as it is (without ``MAIL_SERVER``): the server, the timers' worker and
    the local mail server start; a registration's confirmation mail reaches the folder within the worker's pass,
    its link names this server and confirms the address; an interrupt (Ctrl+C) stops all three."""
    env = _env(tmp_path)
    env.pop("MAIL_SERVER", None)
    env.pop("PUBLIC_BASE_URL", None)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port, mail_port, folder = free_port(), free_port(), tmp_path / "correo"
    lines = _make_run_lines(port, f"LOCAL_MAIL_PORT={mail_port}", f"LOCAL_MAIL_FOLDER={folder}", "TICK_INTERVAL=1")
    last = next(line for line in lines if "gunicorn" in line)
    assert "permits worker" in last, last
    assert "permits mailbox" in last, last
    run = subprocess.Popen(
        ["sh", "-c", last],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(f"{base}/healthz") == 200
        _register(base, "ana.prueba@example.test")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(folder.glob("*.eml")):
            time.sleep(0.5)
        kept = list(folder.glob("*.eml"))
        assert len(kept) == 1, "the confirmation mail did not reach the local mailbox"
        mail = message_from_bytes(kept[0].read_bytes(), policy=policy.default)
        assert mail["To"] == "ana.prueba@example.test"
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        link = re.search(rf"{re.escape(base)}/confirmar-correo/[A-Za-z0-9_-]+", text)
        assert link is not None, text
        browser = _browser()
        _, page = _page(browser, link.group(0))
        path = link.group(0).removeprefix(base)
        reached, _ = _page(browser, link.group(0), {"csrf_token": hidden_value(page, "csrf_token", path)})
        assert urllib.parse.urlparse(reached).path != path, "the address was not confirmed"
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl+C
        try:
            output, _ = run.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            output = b""
        stopped = _group_ended(run.pid, 20)
        if not stopped:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
    assert stopped, "a process make run started is still running after the interrupt"
    shown = output.decode()
    assert "correo para ana.prueba@example.test" in shown, shown
    assert f"{base}/confirmar-correo/" in shown, shown


def _group_ended(group: int, seconds: float) -> bool:
    """Whether every process of ``group`` has ended (within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False
