"""A local stand-in of the job API: a real HTTP server on loopback, backed by SQLite.

It serves the endpoints the submitter uses (create job, create batch, get job, list a
batch's jobs, project details) with the API's error envelope and codes, validates job
payloads with prelabel's own schema, and injects the faults a bulk upload meets:

- ``fail_rate``: answer 503 or 429 (half each) with Retry-After, before doing anything;
- ``reset_rate``: handle the request (the job IS created) and then drop the connection
  without answering: the lost acknowledgement that duplicates jobs in naive clients;
- ``latency_ms``: wait before answering.

With ``annotate=SECONDS`` the sandbox also completes jobs: a job is ``completed`` that many
seconds (of ``clock``) after its creation, and its result is served the way the API serves
one (``../shared/spec/api-notes.md`` 1.3, 1.4): GET job gives ``status`` and a private
``result`` URL; ``GET /v1/attachments?url=RESULT_URL`` (with the key) redirects to a signed
storage URL on the sandbox, which refuses requests that carry an ``x-api-key`` header (the
key must never travel to storage) and serves the result made by
:func:`prelabel.submit.annotator.annotate` from the job's pre-labels.

Jobs whose frame ``src`` host ends in ``.invalid`` (a reserved TLD that never resolves) are
refused with FS_0007, so a rehearsal can exercise a permanent per-job error.

Use it from the CLI (``prelabel sandbox --port 8080 --api-key KEY``) or in tests::

    with Sandbox("k", fail_rate=0.2, seed=1) as sb:
        Submitter("p", "k", base_url=sb.url).submit(jobs)
        assert sb.job_count() == len(jobs)
"""

from __future__ import annotations

import hmac
import random
import socket
import sqlite3
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from os import PathLike
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from prelabel.submit import api
from prelabel.submit.annotator import AnnotatorRates, annotate

# how long a signed storage URL stays valid (seconds of the sandbox's clock)
SIGNED_URL_TTL = 300.0
STORAGE_PREFIX = "/storage/results/"
SIGNED_PREFIX = "/signed/results/"

MAX_BODY = 64 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT NOT NULL, is_default INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_project ON batches (project_id, name);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, project_id TEXT NOT NULL,
    reference_id TEXT NOT NULL, batch_id TEXT NOT NULL, work_flow_id TEXT NOT NULL,
    body BLOB NOT NULL, created_at TEXT NOT NULL, created_clock REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_ref ON jobs (project_id, reference_id);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id, seq);
CREATE INDEX IF NOT EXISTS jobs_id ON jobs (job_id);
"""


class _Reset(Exception):
    """Drop the connection without an answer (after the work is done)."""


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


class _Answer(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 60  # an idle keep-alive connection ends after a minute
    disable_nagle_algorithm = True  # no 40 ms stall between small writes
    wbufsize = 1 << 16  # buffered: headers and body leave in one send at the flush

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.sandbox._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.sandbox._handle(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ARG002 (the base class's signature)
        # headers are never logged (the key is one); the sandbox logs its own line
        return


class Sandbox:
    """The API on ``http://127.0.0.1:PORT`` (port 0 picks a free one; see ``url``)."""

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | PathLike[str] | None = None,
        fail_rate: float = 0.0,
        reset_rate: float = 0.0,
        latency_ms: float = 0.0,
        seed: int | None = None,
        retry_after: float = 1.0,
        validate: bool = True,
        page_size: int = 100,
        after_create: Callable[[int], None] | None = None,
        log: Callable[[str], None] | None = None,
        annotate: float | None = None,
        annotate_seed: int = 0,
        annotator: AnnotatorRates | None = None,
        clock: Callable[[], float] = time.time,
        redirect_location: Callable[[str], str] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("the sandbox needs an API key to check")
        if not api.is_loopback(host):
            raise ValueError("the sandbox listens on loopback only")
        if not (0 <= fail_rate <= 1 and 0 <= reset_rate <= 1 and fail_rate + reset_rate <= 1):
            raise ValueError("fail_rate and reset_rate are in [0, 1] and sum to at most 1")
        if annotate is not None and not annotate >= 0:
            raise ValueError("annotate is a delay in seconds, >= 0")
        self._key = api_key.encode()
        self.host, self._port = host, port
        self.fail_rate, self.reset_rate = fail_rate, reset_rate
        self.latency = latency_ms / 1000.0
        self.retry_after = retry_after
        self.validate = validate
        self.page_size = page_size
        self.after_create = after_create
        self.log = log
        # completing jobs: the delay, the annotator's seed and rates, the clock
        self.annotate = annotate
        self.annotate_seed = annotate_seed
        self.annotator = annotator or AnnotatorRates()
        self.clock = clock
        # tests: rewrite the attachment redirect's Location (a hostile storage host)
        self.redirect_location = redirect_location
        self._signing_key = uuid.uuid4().bytes
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            ":memory:" if db is None else str(db), isolation_level=None, check_same_thread=False
        )
        if db is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(jobs)")}
        if "created_clock" not in cols:  # a --db file of an earlier sandbox
            self._db.execute("ALTER TABLE jobs ADD COLUMN created_clock REAL NOT NULL DEFAULT 0")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> Sandbox:
        if self._server is None:
            self._server = _Server((self.host, self._port), _Handler)
            self._server.sandbox = self
        return self

    def start(self) -> Sandbox:
        """Serve in a background thread."""
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.bind()
        assert self._server is not None
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join()
            self._server.server_close()
            self._server = None
        with self._lock:
            self._db.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection (tests, rehearsals) -------------------------------------------------

    def job_count(self, project_id: str | None = None) -> int:
        with self._lock:
            if project_id is None:
                r = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()
            else:
                r = self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE project_id = ?", (project_id,)
                ).fetchone()
        return int(r[0])

    def jobs(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored job: job_id, project_id, reference_id, batch_id, work_flow_id, body."""
        sql = "SELECT job_id, project_id, reference_id, batch_id, work_flow_id, body FROM jobs"
        args: tuple[str, ...] = ()
        if project_id is not None:
            sql, args = sql + " WHERE project_id = ?", (project_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        keys = ("job_id", "project_id", "reference_id", "batch_id", "work_flow_id", "body")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def reference_counts(self) -> Counter[str]:
        """How many stored jobs carry each reference_id (all 1 when nothing duplicated)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reference_id, COUNT(*) FROM jobs GROUP BY project_id, reference_id"
            ).fetchall()
        return Counter({r: int(n) for r, n in rows})

    def batches(self, project_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, description, is_default FROM batches WHERE project_id = ? "
                "ORDER BY created_at",
                (project_id,),
            ).fetchall()
        return [
            {"id": i, "name": n, "description": d, "is_default": bool(x)} for i, n, d, x in rows
        ]

    # -- request handling ---------------------------------------------------------------

    def _handle(self, h: _Handler, method: str) -> None:
        status, payload, extra = 500, None, {}
        try:
            body = self._read_body(h, method)
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                self.stats["requests"] += 1
                draw = self._rng.random()
                which = self._rng.random()
            storage = method == "GET" and urlsplit(h.path).path.startswith(
                (STORAGE_PREFIX, SIGNED_PREFIX)
            )
            if storage:  # the storage host: no key expected, and one sent is refused
                if draw < self.fail_rate:
                    self._count("fault_storage_500")
                    raise _Answer(500, "InternalError", "storage: try again")
                status, payload = self._storage(h)
                self._respond(h, status, payload, {})
                self._log(f"{method} {urlsplit(h.path).path} -> {status}")
                return
            if not hmac.compare_digest(h.headers.get(api.API_KEY_HEADER, "").encode(), self._key):
                self._count("unauthorized")
                raise _Answer(
                    401,
                    api.AUTH_FAILURE,
                    "Unauthorized request. The authentication key provided is incorrect",
                )
            if draw < self.fail_rate:
                status = 503 if which < 0.5 else 429
                self._count(f"fault_{status}")
                extra = {"Retry-After": _seconds(self.retry_after)}
                if status == 503:
                    raise _Answer(503, "api_error", "Service unavailable, try again later")
                raise _Answer(429, "rate_limited", "Too many requests")
            reset = method == "POST" and draw < self.fail_rate + self.reset_rate
            status, payload = self._route(method, h.path, body)
            if reset:
                raise _Reset
        except _Answer as a:
            status = a.status
            payload = {"error": {"code": a.code, "message": a.message}, "success": False}
        except _Redirect as r:
            status, payload, extra = 302, {"location": r.location}, {"Location": r.location}
        except _Reset:
            self._count("resets")
            h.close_connection = True
            # RST instead of an answer: linger 0 makes close() abort the connection
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._log(f"{method} {urlsplit(h.path).path} -> connection reset")
            return
        except Exception as exc:  # a bug in the sandbox must still answer in the envelope
            status = 500
            payload = {"error": {"code": "FS_0000", "message": repr(exc)}, "success": False}
        self._respond(h, status, payload, extra)
        self._log(f"{method} {urlsplit(h.path).path} -> {status}")

    def _count(self, name: str) -> None:
        with self._lock:
            self.stats[name] += 1

    def _log(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    def _read_body(self, h: _Handler, method: str) -> bytes:
        length = h.headers.get("content-length")
        if length is None:
            if method == "POST":
                h.close_connection = True
                raise _Answer(411, "length_required", "Content-Length is required")
            return b""
        try:
            n = int(length)
        except ValueError:
            h.close_connection = True
            raise _Answer(400, "bad_request", "bad Content-Length") from None
        if n < 0 or n > MAX_BODY:
            h.close_connection = True
            raise _Answer(413, "payload_too_large", f"request bodies are limited to {MAX_BODY}")
        return h.rfile.read(n)

    def _respond(self, h: _Handler, status: int, payload: Any, extra: dict[str, str]) -> None:
        data = orjson.dumps(payload)
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        if h.close_connection:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(data)

    def _route(self, method: str, target: str, body: bytes) -> tuple[int, Any]:
        split = urlsplit(target)
        parts = [unquote(p) for p in split.path.strip("/").split("/")]
        query = parse_qs(split.query, keep_blank_values=True)
        if len(parts) >= 4 and parts[0] == "v1" and parts[1] == "projects" and parts[2]:
            project, rest = parts[2], parts[3:]
            if method == "POST" and rest == ["jobs"]:
                return 200, self._create_job(project, body)
            if method == "POST" and rest == ["batch"]:
                return 200, self._create_batch(project, body)
            if method == "GET" and len(rest) == 2 and rest[0] == "jobs":
                return 200, self._get_job(project, rest[1])
            if method == "GET" and len(rest) == 2 and rest[0] == "batch":
                token = (query.get("page_token") or [""])[0]
                return 200, self._batch_jobs(project, rest[1], token)
            if method == "GET" and rest == ["details"]:
                return 200, self._details(project)
        if method == "GET" and parts == ["v1", "attachments"]:
            raise self._attachment((query.get("url") or [""])[0])
        raise _Answer(404, "not_found", f"no such endpoint: {method} {split.path}")

    # -- endpoints ----------------------------------------------------------------------

    def _create_job(self, project: str, body: bytes) -> Any:
        try:
            job = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _Answer(400, api.INVALID_DATA, f"Job data provided is not valid: {exc}") from None
        if not isinstance(job, dict):
            raise _Answer(400, api.INVALID_DATA, "Job data provided is not valid: not an object")
        ref = job.get("reference_id")
        if not isinstance(ref, str) or not ref:
            raise _Answer(400, api.MISSING_REFERENCE, "reference_id is missing")
        if not job.get("data"):
            raise _Answer(400, api.EMPTY_DATA, "The job data is empty")
        wf = job.get("work_flow_id")
        if not isinstance(wf, str) or not wf:
            raise _Answer(400, api.MISSING_WORKFLOW, "work_flow_id was not provided")
        if self.validate:
            from prelabel.validate import job_problems

            problems = job_problems(job)
            if problems:
                where, msg = problems[0]
                raise _Answer(
                    400, api.INVALID_DATA, f"Job data provided is not valid: {where}: {msg}"
                )
        for src in _sources(job):
            host = urlsplit(src).hostname or ""
            if host.endswith(".invalid"):
                raise _Answer(
                    400, api.ATTACHMENT_UNREACHABLE, f"Attachment could not be accessed: {src}"
                )
        batch_id = job.get("batch_id")
        with self._lock:
            if batch_id:
                r = self._db.execute(
                    "SELECT 1 FROM batches WHERE id = ? AND project_id = ?", (batch_id, project)
                ).fetchone()
                if r is None:
                    raise _Answer(400, api.INVALID_PARAMETER, f"batch_id {batch_id} not found")
            else:
                batch_id = self._default_batch(project)
            dup = self._db.execute(
                "SELECT 1 FROM jobs WHERE project_id = ? AND reference_id = ?", (project, ref)
            ).fetchone()
            if dup is not None:
                self.stats["duplicates"] += 1
                raise _Answer(400, api.DUPLICATE_REFERENCE, "Duplicate Reference Id")
            job_id = str(uuid.uuid4())
            cur = self._db.execute(
                "INSERT INTO jobs (job_id, project_id, reference_id, batch_id, work_flow_id, "
                "body, created_at, created_clock) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, project, ref, batch_id, wf, body, _now(), self.clock()),
            )
            self.stats["created"] += 1
            seq = int(cur.lastrowid or 0)
        if self.after_create is not None:
            self.after_create(seq)
        return {
            "data": {"job_id": job_id, "reference_id": ref, "work_flow_id": wf},
            "success": True,
        }

    def _default_batch(self, project: str) -> str:
        r = self._db.execute(
            "SELECT id FROM batches WHERE project_id = ? AND is_default = 1", (project,)
        ).fetchone()
        if r is not None:
            return str(r[0])
        bid = str(uuid.uuid4())
        self._db.execute(
            "INSERT INTO batches VALUES (?, ?, 'Default', '', 1, ?)", (bid, project, _now())
        )
        return bid

    def _create_batch(self, project: str, body: bytes) -> Any:
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            obj = None
        name = obj.get("name") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not name:
            raise _Answer(400, "GE_0002", "Parameter missing: name")
        desc = obj.get("description") if isinstance(obj, dict) else ""
        with self._lock:
            r = self._db.execute(
                "SELECT 1 FROM batches WHERE project_id = ? AND name = ?", (project, name)
            ).fetchone()
            if r is not None:
                raise _Answer(
                    400,
                    api.BATCH_EXISTS,
                    "A batch with this name already exists. Make sure to provide a unique "
                    "batch name for a batch.",
                )
            bid = str(uuid.uuid4())
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, 0, ?)",
                (bid, project, name, str(desc or ""), _now()),
            )
        return {"data": {"batch_id": bid}, "success": True}

    def _get_job(self, project: str, job_id: str) -> Any:
        with self._lock:
            r = self._db.execute(
                "SELECT reference_id, batch_id, work_flow_id, created_clock FROM jobs "
                "WHERE project_id = ? AND job_id = ?",
                (project, job_id),
            ).fetchone()
        if r is None:
            raise _Answer(404, "not_found", f"job {job_id} not found")
        ref, bid, wf, created = r
        done = self._completed(float(created))
        return {
            "data": {
                "project_id": project,
                "reference_id": ref,
                "job_id": job_id,
                "batch_id": bid,
                "status": "completed" if done else "pending",
                "work_flow_id": wf,
                "priority_weight": 5,
                "tag": wf,
                "result": f"{self.url}{STORAGE_PREFIX}{job_id}.json" if done else None,
            },
            "success": True,
        }

    def _batch_jobs(self, project: str, batch_id: str, token: str) -> Any:
        if token and not token.isdigit():
            raise _Answer(
                400,
                api.INVALID_PAGE_TOKEN,
                "Invalid pageToken provided, please provide the correct page token",
            )
        after = int(token or 0)
        with self._lock:
            b = self._db.execute(
                "SELECT name FROM batches WHERE id = ? AND project_id = ?", (batch_id, project)
            ).fetchone()
            if b is None:
                raise _Answer(404, "not_found", f"batch {batch_id} not found")
            rows = self._db.execute(
                "SELECT seq, job_id, reference_id FROM jobs WHERE batch_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (batch_id, after, self.page_size + 1),
            ).fetchall()
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        return {
            "data": {
                "id": batch_id,
                "project_id": project,
                "name": b[0],
                "jobs": [
                    {"id": j, "reference_id": r, "status": "pending", "frames": 0}
                    for _, j, r in rows
                ],
                "next_page_token": str(rows[-1][0]) if more else "",
            },
            "success": True,
        }

    def _details(self, project: str) -> Any:
        with self._lock:
            rows = self._db.execute(
                "SELECT b.id, b.name, b.description, b.is_default, b.created_at, "
                "(SELECT COUNT(*) FROM jobs j WHERE j.batch_id = b.id) "
                "FROM batches b WHERE b.project_id = ? ORDER BY b.created_at",
                (project,),
            ).fetchall()
        return {
            "data": {
                "name": project,
                "base": "VIDEO",
                "batches": [
                    {
                        "id": i,
                        "name": n,
                        "description": d,
                        "is_default": bool(x),
                        "total_jobs": c,
                        "completed_jobs": 0,
                        "created_at": t,
                        "status": "In Progress",
                    }
                    for i, n, d, x, t, c in rows
                ],
            },
            "success": True,
        }

    # -- completed jobs: attachments and the storage host -----------------------------------

    def _completed(self, created: float) -> bool:
        return self.annotate is not None and self.clock() - created >= self.annotate

    def _signature(self, job_id: str, expires: int) -> str:
        msg = f"{job_id}\x00{expires}".encode()
        return hmac.new(self._signing_key, msg, "sha256").hexdigest()

    def _attachment(self, url: str) -> _Redirect:
        """``GET /v1/attachments?url=``: a redirect to the signed URL of a result."""
        prefix = f"{self.url}{STORAGE_PREFIX}"
        if not url.startswith(prefix) or not url.endswith(".json"):
            raise _Answer(404, "not_found", "no such attachment")
        job_id = url[len(prefix) : -len(".json")]
        with self._lock:
            r = self._db.execute(
                "SELECT created_clock FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if r is None or not self._completed(float(r[0])):
            raise _Answer(404, "not_found", "no such attachment")
        expires = int(self.clock() + SIGNED_URL_TTL)
        sig = self._signature(job_id, expires)
        location = f"{self.url}{SIGNED_PREFIX}{job_id}.json?expires={expires}&signature={sig}"
        if self.redirect_location is not None:
            location = self.redirect_location(location)
        self._count("redirects")
        return _Redirect(location)

    def _storage(self, h: _Handler) -> tuple[int, Any]:
        """The storage host: a signed URL gives the result; anything else is refused."""
        if api.API_KEY_HEADER in {k.lower() for k in h.headers}:
            self._count("key_at_storage")
            return 400, {"error": "the storage host was sent an x-api-key header"}
        split = urlsplit(h.path)
        if not split.path.startswith(SIGNED_PREFIX) or not split.path.endswith(".json"):
            self._count("unsigned")
            return 403, {
                "error": "AccessDenied: the result URL is private; use the attachments API"
            }
        job_id = split.path[len(SIGNED_PREFIX) : -len(".json")]
        query = parse_qs(split.query)
        expires = (query.get("expires") or [""])[0]
        sig = (query.get("signature") or [""])[0]
        # a 5,000-digit expires must not reach int() (CPython refuses it: a 500, not a 403)
        good = (
            expires.isdigit()
            and len(expires) <= 12
            and hmac.compare_digest(sig.encode(), self._signature(job_id, int(expires)).encode())
        )
        if not good:
            self._count("bad_signature")
            return 403, {"error": "AccessDenied: bad signature"}
        if self.clock() > int(expires):
            self._count("expired")
            return 403, {"error": "AccessDenied: the signed URL has expired"}
        with self._lock:
            r = self._db.execute("SELECT body FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if r is None:
            return 404, {"error": "NoSuchKey"}
        self._count("results_served")
        return 200, annotate(orjson.loads(r[0]), self.annotate_seed, self.annotator)

    def result_of(self, job_id: str) -> dict[str, Any]:
        """The result the sandbox serves for ``job_id`` (tests compare with what was saved)."""
        with self._lock:
            r = self._db.execute("SELECT body FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if r is None:
            raise KeyError(job_id)
        return annotate(orjson.loads(r[0]), self.annotate_seed, self.annotator)


def _seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


def _sources(job: dict[str, Any]) -> list[str]:
    data = job.get("data")
    if not isinstance(data, dict):
        return []
    out = [data["image_url"]] if isinstance(data.get("image_url"), str) else []
    vd = data.get("video_data")
    frames = vd.get("frames") if isinstance(vd, dict) else None
    if isinstance(frames, list):
        out += [f["src"] for f in frames if isinstance(f, dict) and isinstance(f.get("src"), str)]
    return out
