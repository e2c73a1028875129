"""A throw-away PostgreSQL server started from the installed server binaries.

``initdb`` into a temporary directory, ``postgres`` on a free loopback port with its socket in that
directory, stopped and removed at the end. As root the server runs as the ``postgres`` user (or
``nobody``), because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres`` (PG_BINDIR, then /usr/lib/postgresql/*/bin)."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, postgres) not found; set PG_BINDIR")


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """Start with :meth:`start`, connect with :attr:`url`, stop with :meth:`stop`."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable  # fsync and synchronous commit on (benchmarks); off for the test suite's speed
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="tramites-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.user: str | None = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                break
            if self.user is None:
                raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL")
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the maintenance database ``postgres``."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server (psycopg 3, TCP on loopback)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, user=self.user, capture_output=True, timeout=120, check=False, cwd=self.root)

    def start(self) -> None:
        """initdb and start the server; raises ``PostgresUnavailable`` with the server's log on failure."""
        result = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {result.stderr.decode(errors='replace')[-2000:]}")
        log = open(self.log, "wb")  # noqa: SIM115 - kept open for the server's lifetime
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
        self.process = subprocess.Popen(
            self._server_args(),
            user=self.user,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
        )
        self.wait_ready()

    def _server_args(self) -> list[str]:
        durability = "on" if self.durable else "off"
        return [
            str(self.bindir / "postgres"),
            "-D",
            str(self.datadir),
            "-p",
            str(self.port),
            "-k",
            str(self.root),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"fsync={durability}",
            "-c",
            f"synchronous_commit={durability}",
            "-c",
            f"full_page_writes={durability}",
            "-c",
            f"autovacuum={durability}",  # the suite's databases are brought back to their template's state
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=64MB",
        ]

    def wait_ready(self, seconds: float = 60) -> None:
        """Wait until the server accepts connections; raises ``PostgresUnavailable`` (after stopping it) if not."""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PostgresUnavailable(f"postgres exited: {self.log.read_text(errors='replace')[-2000:]}")
            ready = self._run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)])
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        self.stop()
        raise PostgresUnavailable(f"postgres did not become ready within {seconds:.0f} s")

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are rolled back and disconnected) and remove its directory.

        SIGINT, not SIGTERM: SIGTERM is PostgreSQL's smart shutdown, which waits for every client to disconnect, so
        a benchmark or test still holding a connection waited the 30 s below and then killed the server, leaving its
        shared memory segments in ``/dev/shm``."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
