"""The bare endpoints of the HTTP benchmark (``bench/http_bench.py``): a Flask app run only by the benchmark.

Each endpoint sends, through a bare psycopg connection, the statements the real request sent (recorded by the
benchmark with an engine listener and handed over in the pickle file ``FLOOR_STATEMENTS``), and answers with
a body of the real page's size: what the page costs with no ORM, no templates, no access checks.

* ``GET /case`` and ``GET /queue``: the case page's and the reviewer queue's statements, replayed;
* ``POST /transition/<case_id>``: the reads of the real POST replayed, then the write floor of a transition (a
  version-checked ``UPDATE`` of the case, one ``INSERT`` of a SHA-256-chained row) and ``COMMIT``; a redirect.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, Response

app = Flask(__name__)
_STATE: dict[str, Any] = {}


def _connection() -> psycopg.Connection[Any]:
    """One connection per worker process, opened on first use (after gunicorn forked)."""
    if "conn" not in _STATE:
        _STATE["conn"] = psycopg.connect(os.environ["FLOOR_DATABASE_URL"])
        _STATE["recorded"] = pickle.loads(Path(os.environ["FLOOR_STATEMENTS"]).read_bytes())  # noqa: S301 - ours
        _STATE["last"] = "0" * 64
    conn: psycopg.Connection[Any] = _STATE["conn"]
    return conn


def _replay(name: str) -> None:
    conn = _connection()
    with conn.cursor() as cursor:
        for sql, params in _STATE["recorded"][name]:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
    conn.commit()


@app.get("/ping")
def ping() -> str:
    """Ready check."""
    return "ok"


@app.get("/case")
def case() -> str:
    """The case page's statements."""
    _replay("case")
    return "x" * int(_STATE["recorded"]["case_bytes"])


@app.get("/queue")
def queue() -> str:
    """The reviewer queue's statements."""
    _replay("queue")
    return "x" * int(_STATE["recorded"]["queue_bytes"])


@app.post("/transition/<int:case_id>")
def transition(case_id: int) -> Response:
    """The real POST's reads, then a version-checked UPDATE, a hashed INSERT and COMMIT."""
    conn = _connection()
    with conn.cursor() as cursor:
        for sql, params in _STATE["recorded"]["post_reads"]:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
        cursor.execute("SELECT version FROM cases WHERE id = %s", (case_id,))
        row = cursor.fetchone()
        version = int(row[0]) if row else 0
        cursor.execute("UPDATE cases SET version = version + 1 WHERE id = %s AND version = %s", (case_id, version))
        digest = hashlib.sha256((_STATE["last"] + str(case_id)).encode()).hexdigest()
        cursor.execute("INSERT INTO bench_floor_log (hash) VALUES (%s)", (digest,))
        _STATE["last"] = digest
    conn.commit()
    return Response(status=302, headers={"Location": f"/expedientes/{case_id}"})
