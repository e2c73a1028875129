"""Several servers on one machine: PostgreSQL, Redis, a real SMTP server, two gunicorn instances of the app and
two tick workers, sharing the database, the documents directory, the keys and the throttling store.

Everything is started from the installed binaries in a temporary directory and stopped at the end; the
processes are the ones production runs (``gunicorn wsgi:app``, ``flask permits worker``), with their
configuration from the environment. The cluster can SIGKILL an app worker, a whole app instance or a tick
worker (a supervisor starts them again, as systemd would), and stop and start PostgreSQL under load.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.postgres import PostgresServer, free_port
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "soak-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # shared by every instance (signed cookies)


def redis_binary() -> str | None:
    """The installed ``redis-server`` (Debian package ``redis-server``), if any."""
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


class RestartablePostgres(PostgresServer):
    """The test suite's throw-away server, which can also be stopped and started again on its data."""

    def halt(self) -> None:
        """Stop the server (fast shutdown: open transactions roll back), keeping its data and port."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def resume(self) -> None:
        """Start the server again on the same data directory and port."""
        log = open(self.log, "ab")  # noqa: SIM115 - kept open for the server's lifetime
        self.process = subprocess.Popen(
            self._server_args(),
            user=self.user,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        self.wait_ready()


@dataclass
class Managed:
    """A process the cluster started, and how to start it again."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self, env: dict[str, str]) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class KillCounts:
    """SIGKILLs sent, by target."""

    app_workers: int = 0
    app_instances: int = 0
    tick_workers: int = 0

    @property
    def total(self) -> int:
        return self.app_workers + self.app_instances + self.tick_workers


@dataclass
class Cluster:
    """Start with :meth:`start`, stop with :meth:`stop`; ``ports`` are the app instances' HTTP ports."""

    app_instances: int = 2
    gunicorn_workers: int = 2
    gunicorn_threads: int = 4
    tick_workers: int = 2
    tick_interval: float = 0.2
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tramites-cluster-")))
    pg: RestartablePostgres | None = None
    redis: Managed | None = None
    smtp: SmtpServer | None = None
    apps: list[Managed] = field(default_factory=list)
    ticks: list[Managed] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    kills: KillCounts = field(default_factory=KillCounts)
    outages: int = 0
    _supervising: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- paths and settings shared by every process -----------------------------------------------------

    @property
    def database_url(self) -> str:
        assert self.pg is not None
        return self.pg.url_for("tramites")

    @property
    def redis_port(self) -> int:
        return int(self.redis.args[self.redis.args.index("--port") + 1]) if self.redis else 0

    def settings(self) -> dict[str, str]:
        """The environment variables every app instance and tick worker gets (what production sets)."""
        assert self.smtp is not None
        return {
            "APP_ENV": "development",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": self.database_url,
            "DOCUMENTS_DIR": str(self.root / "documents"),
            "KEYS_DIR": str(self.root / "keys"),
            "AUDIT_KEPT_CHECKPOINT_FILE": str(self.root / "kept-checkpoint.json"),
            "AUDIT_CHECKPOINT_INTERVAL": "5",
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{self.redis_port}/0",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.smtp.port),
            "PUBLIC_BASE_URL": "https://tramites.municipio.example",
            "STAFF_TOTP_REQUIRED": "false",
            "DATABASE_RETRY_AFTER": "2",
        }

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TEST_"))}
        env.update(self.settings())
        env["PYTHONPATH"] = str(ROOT)
        # Temporary files in the cluster's own folder, removed with it: a SIGKILLed process cannot remove its own
        # (WeasyPrint's font folder, for one), as a unit with a private /tmp would have them
        env["TMPDIR"] = str(self.root / "tmp")
        return env

    def app_overrides(self) -> dict[str, object]:
        """The same settings as Flask config keys, for the harness's own application object."""
        settings = self.settings()
        return {
            "SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
            "SECRET_KEY": SECRET,
            "DOCUMENTS_DIR": settings["DOCUMENTS_DIR"],
            "KEYS_DIR": settings["KEYS_DIR"],
            "AUDIT_KEPT_CHECKPOINT_FILE": settings["AUDIT_KEPT_CHECKPOINT_FILE"],
            "RATELIMIT_STORAGE_URI": settings["RATELIMIT_STORAGE_URI"],
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": int(settings["MAIL_PORT"]),
            "PUBLIC_BASE_URL": settings["PUBLIC_BASE_URL"],
            "STAFF_TOTP_REQUIRED": False,
        }

    # -- start and stop ------------------------------------------------------------------------------

    def start_services(self) -> None:
        """PostgreSQL (with an empty ``tramites`` database migrated to head), Redis and the SMTP server."""
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is missing: install the Debian package 'redis-server' (make system-deps)")
        (self.root / "documents").mkdir(parents=True, exist_ok=True)
        (self.root / "keys").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.pg = RestartablePostgres()
        self.pg.start()
        from sqlalchemy import create_engine, text

        admin = create_engine(self.pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE tramites"))
        admin.dispose()
        port = free_port()
        self.redis = Managed(
            "redis",
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            self.root / "redis.log",
        )
        self.redis.args += ["--dir", str(self.root)]
        self.redis.start(dict(os.environ))
        self.smtp = SmtpServer(free_port())
        self.smtp.start()
        _wait(lambda: _redis_ping(port), 30, "redis did not start")
        self.prepare()

    def prepare(self) -> None:
        """Migrate the database to head and create the signing keys (in this process: it saves a start-up)."""
        from flask_migrate import upgrade

        from app import create_app
        from app.extensions import db

        app = create_app("development", **self.app_overrides())
        with app.app_context():
            upgrade()
            keys = app.test_cli_runner().invoke(args=["keys", "init"])
            if keys.exit_code != 0:
                raise RuntimeError(f"keys init failed: {keys.output[-3000:]}")
            db.engine.dispose()

    def start_processes(self) -> None:
        """The app instances (gunicorn) and the tick workers; returns when every instance answers /healthz."""
        env = self.env()
        for n in range(self.app_instances):
            port = free_port()
            self.ports.append(port)
            managed = Managed(
                f"app{n + 1}",
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    str(self.gunicorn_workers),
                    "--threads",
                    str(self.gunicorn_threads),
                    "--graceful-timeout",
                    "5",
                    "--timeout",
                    "60",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "wsgi:app",
                ],
                self.root / f"app{n + 1}.log",
            )
            managed.start(env)
            self.apps.append(managed)
        for n in range(self.tick_workers):
            managed = Managed(
                f"tick{n + 1}",
                [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    "wsgi",
                    "permits",
                    "worker",
                    "--interval",
                    str(self.tick_interval),
                ],
                self.root / f"tick{n + 1}.log",
            )
            managed.start(env)
            self.ticks.append(managed)
        for port in self.ports:
            _wait(lambda port=port: _http_ok(port), 60, f"app on port {port} did not start")  # type: ignore[misc]
        self._supervising.set()
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()

    def _supervise(self) -> None:
        """Start again whatever was killed (as systemd's Restart=always would), while supervising."""
        env = self.env()
        while self._supervising.is_set():
            with self._lock:
                for managed in [*self.apps, *self.ticks]:
                    if not managed.alive and self._supervising.is_set():
                        managed.restarts += 1
                        managed.start(env)
            time.sleep(0.2)

    def stop_processes(self) -> None:
        """Stop the app instances and tick workers (no restarts from here on)."""
        self._supervising.clear()
        with self._lock:
            for managed in [*self.apps, *self.ticks]:
                managed.stop()

    def stop(self) -> None:
        """Stop everything and remove the directory (kept when ``KEEP_CLUSTER`` is set, for the logs)."""
        self.stop_processes()
        if self.redis is not None:
            self.redis.stop()
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                self.smtp.stop()
        if self.pg is not None:
            self.pg.stop()
        if not os.environ.get("KEEP_CLUSTER"):
            shutil.rmtree(self.root, ignore_errors=True)

    # -- faults --------------------------------------------------------------------------------------

    def app_worker_pids(self) -> list[int]:
        """The gunicorn worker processes of every instance (the arbiters' children)."""
        pids: list[int] = []
        for managed in self.apps:
            if managed.alive and managed.process is not None:
                pids += _children(managed.process.pid)
        return pids

    def kill_app_worker(self, choose: int, port: int | None = None) -> bool:
        """SIGKILL one gunicorn worker (its arbiter starts another); ``choose`` picks which, among the workers of
        the instance on ``port`` when given (one that is answering a form right now)."""
        if port is not None and port in self.ports:
            managed = self.apps[self.ports.index(port)]
            pids = _children(managed.process.pid) if managed.alive and managed.process is not None else []
        else:
            pids = self.app_worker_pids()
        if not pids:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pids[choose % len(pids)], signal.SIGKILL)
            self.kills.app_workers += 1
            return True
        return False

    def kill_app_instance(self, choose: int) -> bool:
        """SIGKILL a whole app instance, arbiter and workers (the supervisor starts it again)."""
        with self._lock:
            alive = [m for m in self.apps if m.alive]
            if len(alive) < 2:  # keep one instance serving, as a load balancer would route around the other
                return False
            managed = alive[choose % len(alive)]
            assert managed.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(managed.process.pid, signal.SIGKILL)
            managed.process.wait(timeout=10)
            self.kills.app_instances += 1
            return True

    def kill_tick_worker(self, choose: int) -> bool:
        """SIGKILL a tick worker (the supervisor starts it again)."""
        alive = [m for m in self.ticks if m.alive]
        if not alive:
            return False
        managed = alive[choose % len(alive)]
        assert managed.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(managed.process.pid, signal.SIGKILL)
            self.kills.tick_workers += 1
            return True
        return False

    def outage(self, seconds: float, during: object = None) -> None:
        """Stop PostgreSQL, keep it down ``seconds`` (calling ``during()`` meanwhile), start it again."""
        assert self.pg is not None
        self.pg.halt()
        self.outages += 1
        started = time.monotonic()
        if callable(during):
            during()
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        self.pg.resume()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _wait(predicate: object, seconds: float, message: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(message)


def _http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False
