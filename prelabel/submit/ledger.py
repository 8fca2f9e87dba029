"""The ledger: a SQLite file (WAL) that remembers, per reference_id, what was sent and what
the API answered, so that a repeated or crashed run sends only what is not yet created.

States::

    pending  known, not on the server as far as we know (never sent, or refused before
             processing: 429, connect error, 401)
    sending  a request is in flight; committed BEFORE the request goes out. A row still in
             ``sending`` when a run starts belongs to a run that died: its job may exist.
    created  the API answered with a job_id
    exists   the API answered FS_0001 to a request that may have been our own earlier one
    failed   final for now: rejected by the API, refused locally, or attempts exhausted

Results (schema 2): the ``results`` table holds, per created job, what ``prelabel results
fetch`` last learnt: ``waiting`` (the job is not completed yet), ``completed`` (completed,
its result not saved yet), ``fetched`` (saved as ``file`` in the output folder, with its
sha256 and size) or ``failed`` (see ``error_code``). A schema-1 ledger opened for writing
gains the table (nothing else changes); opened read-only it reads as having no results.

``maybe_sent`` is 1 once a request for the row may have reached the server without us
learning the answer (a reset, a timeout, a 5xx, a crash while ``sending``). It decides what
FS_0001 means: ours (``exists``) when set, someone else's (a conflict) when not.

Every change is committed on its own (autocommit), so a kill -9 loses at most the change in
progress. The API key is never stored here.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from os import PathLike
from pathlib import Path
from typing import Any

from prelabel.errors import InputError, SubmitError, param

SCHEMA_VERSION = "2"
# 1: jobs, runs, batches; 2: + results (added to a schema-1 ledger when opened for writing)
READABLE_VERSIONS = frozenset({"1", "2"})
_RETURNING = sqlite3.sqlite_version_info >= (3, 35)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    reference_id  TEXT PRIMARY KEY,
    sha256        TEXT NOT NULL,
    state         TEXT NOT NULL
                  CHECK (state IN ('pending', 'sending', 'created', 'exists', 'failed')),
    job_id        TEXT,
    batch_id      TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    maybe_sent    INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_message TEXT,
    run_id        INTEGER,
    first_seen    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    source      TEXT,
    recovered   INTEGER NOT NULL DEFAULT 0,
    stop_reason TEXT,
    summary     TEXT
);
CREATE TABLE IF NOT EXISTS batches (
    name       TEXT PRIMARY KEY,
    batch_id   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    reference_id  TEXT PRIMARY KEY,
    job_id        TEXT,
    state         TEXT NOT NULL
                  CHECK (state IN ('waiting', 'completed', 'fetched', 'failed')),
    job_status    TEXT,
    file          TEXT,
    sha256        TEXT,
    size          INTEGER,
    checks        INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_message TEXT,
    checked_at    TEXT NOT NULL,
    fetched_at    TEXT
);
CREATE INDEX IF NOT EXISTS results_state ON results (state);
"""


class JobState(str, Enum):
    PENDING = "pending"
    SENDING = "sending"
    CREATED = "created"
    EXISTS = "exists"
    FAILED = "failed"


DONE_STATES = frozenset({JobState.CREATED.value, JobState.EXISTS.value})


class ResultState(str, Enum):
    """What the ledger knows of a created job's result (the ``results`` table)."""

    WAITING = "waiting"  # the job is not completed yet
    COMPLETED = "completed"  # completed; the result not saved yet
    FETCHED = "fetched"  # saved
    FAILED = "failed"  # could not be fetched or saved; see error_code (the next run retries)


@dataclass(frozen=True)
class ResultRow:
    reference_id: str
    job_id: str | None
    state: str
    job_status: str | None
    file: str | None
    sha256: str | None
    size: int | None
    checks: int
    error_code: str | None
    error_message: str | None
    checked_at: str
    fetched_at: str | None


_RESULT_COLUMNS = (
    "reference_id, job_id, state, job_status, file, sha256, size, checks, error_code, "
    "error_message, checked_at, fetched_at"
)


def _result_row(r: tuple[Any, ...]) -> ResultRow:
    return ResultRow(
        reference_id=r[0],
        job_id=r[1],
        state=r[2],
        job_status=r[3],
        file=r[4],
        sha256=r[5],
        size=None if r[6] is None else int(r[6]),
        checks=int(r[7]),
        error_code=r[8],
        error_message=r[9],
        checked_at=r[10],
        fetched_at=r[11],
    )


@dataclass(frozen=True)
class LedgerRow:
    reference_id: str
    sha256: str
    state: str
    job_id: str | None
    batch_id: str | None
    attempts: int
    maybe_sent: bool
    error_code: str | None
    error_message: str | None
    run_id: int | None
    first_seen: str
    updated_at: str

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES


_COLUMNS = (
    "reference_id, sha256, state, job_id, batch_id, attempts, maybe_sent, error_code, "
    "error_message, run_id, first_seen, updated_at"
)


def _row(r: tuple[Any, ...]) -> LedgerRow:
    return LedgerRow(
        reference_id=r[0],
        sha256=r[1],
        state=r[2],
        job_id=r[3],
        batch_id=r[4],
        attempts=int(r[5]),
        maybe_sent=bool(r[6]),
        error_code=r[7],
        error_message=r[8],
        run_id=r[9],
        first_seen=r[10],
        updated_at=r[11],
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def default_ledger_path(jobs_file: str | PathLike[str]) -> Path:
    """``JOBS.jsonl`` -> ``JOBS.jsonl.ledger.sqlite`` beside it."""
    p = Path(jobs_file)
    return p.with_name(p.name + ".ledger.sqlite")


class Ledger:
    """One ledger file (or ``":memory:"``), safe to share between threads.

    ``fsync=True`` sets ``synchronous=FULL``: each commit survives a power cut too. The
    default (``NORMAL`` in WAL mode) survives any crash of the process, kill -9 included,
    at a tenth of the cost per commit. ``create=False`` refuses a file that does not exist
    (as ``readonly`` does) instead of starting a new ledger there.
    """

    def __init__(
        self,
        path: str | PathLike[str] = ":memory:",
        *,
        fsync: bool = False,
        readonly: bool = False,
        lock: bool = False,
        create: bool = True,
    ) -> None:
        self.path = str(path)
        # the file itself, whatever name (symlink, relative path) the caller gave it: the
        # lock and the database are opened through this one name
        self.real_path = self.path if self.path == ":memory:" else os.path.realpath(self.path)
        if not create and self.real_path != ":memory:" and not os.path.exists(self.real_path):
            raise InputError(self.path, None, "no such ledger")  # before any file is made
        self._lock = threading.RLock()
        self._lockfile: Any = None
        self._db: sqlite3.Connection
        try:
            if lock and not readonly:
                self.acquire()  # before looking at the file: another run may be creating it
            existed = self.real_path != ":memory:" and os.path.exists(self.real_path)
            if existed or readonly:
                _check_file(self.path, self.real_path)
            if readonly:
                uri = f"{Path(self.real_path).as_uri()}?mode=ro"
                self._db = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                self._db = sqlite3.connect(
                    self.real_path, isolation_level=None, check_same_thread=False, timeout=30
                )
            if existed or readonly:
                self._check_contents()
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            version = self._meta("schema_version")
            if version == "1" and not readonly:  # the results table was just created
                self._db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,)
                )
                version = SCHEMA_VERSION
            self._has_results = self._table_exists("results")
        except sqlite3.DatabaseError as exc:
            self._abandon()
            raise InputError(self.path, None, f"not a readable ledger ({exc})") from None
        except BaseException:
            self._abandon()
            raise
        if version not in READABLE_VERSIONS:
            self._abandon()
            raise InputError(self.path, None, f"ledger schema {version!r} is not supported")

    def _abandon(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
        if self._lockfile is not None:
            self._lockfile.close()
            self._lockfile = None

    def _check_contents(self) -> None:
        """An existing file must be a sound prelabel ledger: never start it afresh."""
        got = self._db.execute("PRAGMA quick_check").fetchall()
        if [tuple(r) for r in got] != [("ok",)]:
            first = "; ".join(str(r[0]) for r in got[:2])
            raise InputError(self.path, None, f"the ledger is corrupt ({first})")
        tables = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"meta", "jobs", "runs", "batches"} <= tables:
            raise InputError(
                self.path, None, "a SQLite file but not a prelabel ledger (no jobs/meta tables)"
            )

    # -- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._lockfile is not None:
                self._lockfile.close()
                self._lockfile = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def acquire(self) -> None:
        """Hold an exclusive lock on the ledger for this process (released on exit, kill -9
        included): two runs on one ledger could send the same job twice."""
        if self.real_path == ":memory:" or self._lockfile is not None:
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks here
            return
        # named after the real file: a symlink or another path to it takes the same lock
        try:
            f = open(self.real_path + ".lock", "a+b")  # noqa: SIM115 - held for its life
        except OSError as exc:
            raise InputError(
                self.path, None, f"cannot open the ledger's lock file: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise SubmitError(
                f"the ledger {self.path} is in use by another prelabel run; wait for it to end"
            ) from None
        self._lockfile = f

    def _table_exists(self, name: str) -> bool:
        r = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return r is not None

    @property
    def schema_version(self) -> str | None:
        with self._lock:
            return self._meta("schema_version")

    def binding(self) -> tuple[str | None, str | None]:
        """(project_id, base_url) the ledger is bound to (None before its first run)."""
        with self._lock:
            return self._meta("project_id"), self._meta("base_url")

    def bound(self) -> tuple[str, str]:
        """(project_id, base_url) of a ledger some run was bound to; a ledger no job was ever
        submitted with is refused (its results have no project to be fetched from)."""
        project_id, base_url = self.binding()
        if project_id is None or base_url is None:
            raise InputError(
                self.path, None, "the ledger names no project: no job was ever submitted with it"
            )
        return project_id, base_url

    def _meta(self, key: str) -> str | None:
        r = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if r is None else str(r[0])

    def bind(self, project_id: str, base_url: str) -> None:
        """Tie the ledger to one project on one API: a ledger of sandbox runs must not make
        a run against the real API skip every job."""
        with self._lock:
            for key, value in (("project_id", project_id), ("base_url", base_url)):
                have = self._meta(key)
                if have is None:
                    self._db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
                elif have != value:
                    raise SubmitError(
                        f"the ledger {self.path} records {key} {have!r}, not {value!r}; "
                        f"use another {param('ledger', cli='FILE')} for another project or API"
                    )

    # -- runs ---------------------------------------------------------------------------

    def begin_run(self, source: str | None = None) -> tuple[int, int]:
        """Open a run; rows left in ``sending`` by a dead run become ``maybe_sent``.
        Returns (run_id, number of such rows)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                recovered = self._db.execute(
                    "UPDATE jobs SET maybe_sent = 1 WHERE state = 'sending'"
                ).rowcount
                cur = self._db.execute(
                    "INSERT INTO runs (started_at, source, recovered) VALUES (?, ?, ?)",
                    (_now(), source, recovered),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return int(cur.lastrowid or 0), recovered

    def end_run(self, run_id: int, stop_reason: str | None, summary: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET finished_at = ?, stop_reason = ?, summary = ? WHERE id = ?",
                (_now(), stop_reason, summary, run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, started_at, finished_at, source, recovered, stop_reason, summary "
                "FROM runs ORDER BY id"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # -- jobs ---------------------------------------------------------------------------

    def get(self, reference_id: str) -> LedgerRow | None:
        with self._lock:
            r = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE reference_id = ?", (reference_id,)
            ).fetchone()
        return None if r is None else _row(r)

    def mark_sending(
        self, reference_id: str, sha256: str, batch_id: str | None, run_id: int
    ) -> int:
        """Record (and commit) that a request for this job is about to go out; returns the
        job's attempt count, this one included."""
        now = _now()
        sql = (
            "INSERT INTO jobs (reference_id, sha256, state, batch_id, attempts, run_id, "
            "first_seen, updated_at) VALUES (?, ?, 'sending', ?, 1, ?, ?, ?) "
            "ON CONFLICT (reference_id) DO UPDATE SET sha256 = excluded.sha256, "
            "state = 'sending', batch_id = excluded.batch_id, attempts = attempts + 1, "
            "run_id = excluded.run_id, updated_at = excluded.updated_at"
        )
        args = (reference_id, sha256, batch_id, run_id, now, now)
        with self._lock:
            if _RETURNING:
                return int(self._db.execute(sql + " RETURNING attempts", args).fetchone()[0])
            self._db.execute(sql, args)
            r = self._db.execute(
                "SELECT attempts FROM jobs WHERE reference_id = ?", (reference_id,)
            ).fetchone()
            return int(r[0])

    def record(
        self,
        reference_id: str,
        state: JobState,
        *,
        job_id: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        maybe_sent: bool = False,
    ) -> None:
        """The answer to the attempt in flight (commits). ``maybe_sent`` only ever turns on."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, job_id = COALESCE(?, job_id), error_code = ?, "
                "error_message = ?, maybe_sent = MAX(maybe_sent, ?), updated_at = ? "
                "WHERE reference_id = ?",
                (
                    state.value,
                    job_id,
                    error_code,
                    error_message,
                    int(maybe_sent),
                    _now(),
                    reference_id,
                ),
            )

    def refuse(
        self,
        reference_id: str,
        sha256: str,
        batch_id: str | None,
        run_id: int,
        code: str,
        message: str,
    ) -> None:
        """A job refused before sending (invalid payload): ``failed`` with no attempt."""
        now = _now()
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (reference_id, sha256, state, batch_id, run_id, error_code, "
                "error_message, first_seen, updated_at) "
                "VALUES (?, ?, 'failed', ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (reference_id) DO UPDATE SET sha256 = excluded.sha256, "
                "state = 'failed', batch_id = excluded.batch_id, run_id = excluded.run_id, "
                "error_code = excluded.error_code, error_message = excluded.error_message, "
                "updated_at = excluded.updated_at",
                (reference_id, sha256, batch_id, run_id, code, message, now, now),
            )

    def set_job_id(self, reference_id: str, job_id: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET job_id = ?, error_code = NULL, error_message = NULL, "
                "updated_at = ? WHERE reference_id = ?",
                (job_id, _now(), reference_id),
            )

    def missing_job_ids(self) -> dict[str | None, list[str]]:
        """batch_id (None: the project's default batch) -> reference_ids of every job that
        is created or exists without a known job_id, whichever run settled it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, reference_id FROM jobs WHERE state IN ('created', 'exists') "
                "AND job_id IS NULL ORDER BY rowid"
            ).fetchall()
        out: dict[str | None, list[str]] = {}
        for batch_id, ref in rows:
            out.setdefault(batch_id, []).append(ref)
        return out

    def rows_missing_job_id(self) -> list[LedgerRow]:
        """The created/existing rows without a job_id (what ``status`` reports)."""
        with self._lock:
            got = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN ('created', 'exists') "
                "AND job_id IS NULL ORDER BY rowid"
            ).fetchall()
        return [_row(r) for r in got]

    def note_missing_job_id(self, reference_id: str, code: str, reason: str) -> None:
        """Why a created/existing job still has no job_id (shown by ``status``)."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET error_code = ?, error_message = ?, updated_at = ? "
                "WHERE reference_id = ? AND job_id IS NULL",
                (code, reason, _now(), reference_id),
            )

    def counts(self) -> dict[str, int]:
        """Rows per state (every state present, zeros included)."""
        with self._lock:
            got = dict(
                self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
            )
        return {s.value: int(got.get(s.value, 0)) for s in JobState}

    def in_doubt(self) -> int:
        """Jobs not (yet) created of which a request may have reached the API: the next run
        settles them (FS_0001 then means ours)."""
        with self._lock:
            got = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'sending', 'failed') "
                "AND maybe_sent"
            ).fetchone()
        return int(got[0])

    def rows(self, state: JobState | None = None) -> Iterator[LedgerRow]:
        """Every row, or those in ``state``, in the order they were first recorded."""
        with self._lock:
            if state is None:
                got = self._db.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY rowid").fetchall()
            else:
                got = self._db.execute(
                    f"SELECT {_COLUMNS} FROM jobs WHERE state = ? ORDER BY rowid",
                    (JobState(state).value,),
                ).fetchall()
        return (_row(r) for r in got)

    # -- results ------------------------------------------------------------------------

    def fetchable(self) -> list[tuple[LedgerRow, ResultRow | None]]:
        """Every created or existing job with what the ledger knows of its result, in the
        order the jobs were first recorded."""
        with self._lock:
            got = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN ('created', 'exists') ORDER BY rowid"
            ).fetchall()
            known = {r.reference_id: r for r in self._result_rows(None)}
        rows = [_row(r) for r in got]
        return [(r, known.get(r.reference_id)) for r in rows]

    def _result_rows(self, state: ResultState | None) -> list[ResultRow]:
        if not self._has_results:
            return []
        if state is None:
            got = self._db.execute(
                f"SELECT {_RESULT_COLUMNS} FROM results ORDER BY rowid"
            ).fetchall()
        else:
            got = self._db.execute(
                f"SELECT {_RESULT_COLUMNS} FROM results WHERE state = ? ORDER BY rowid",
                (ResultState(state).value,),
            ).fetchall()
        return [_result_row(r) for r in got]

    def result(self, reference_id: str) -> ResultRow | None:
        """What the ledger knows of one job's result (None: never looked at)."""
        if not self._has_results:
            return None
        with self._lock:
            r = self._db.execute(
                f"SELECT {_RESULT_COLUMNS} FROM results WHERE reference_id = ?", (reference_id,)
            ).fetchone()
        return None if r is None else _result_row(r)

    def result_rows(self, state: ResultState | None = None) -> list[ResultRow]:
        """Every result row, or those in ``state``, in the order first recorded."""
        with self._lock:
            return self._result_rows(state)

    def record_result(
        self,
        reference_id: str,
        state: ResultState,
        *,
        job_id: str | None,
        job_status: str | None = None,
        file: str | None = None,
        sha256: str | None = None,
        size: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """What one look at a job's result found (commits); ``fetched`` stamps the time."""
        now = _now()
        fetched_at = now if state is ResultState.FETCHED else None
        with self._lock:
            self._db.execute(
                f"INSERT INTO results ({_RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?) "
                "ON CONFLICT (reference_id) DO UPDATE SET job_id = excluded.job_id, "
                "state = excluded.state, job_status = excluded.job_status, "
                "file = excluded.file, sha256 = excluded.sha256, size = excluded.size, "
                "checks = checks + 1, error_code = excluded.error_code, "
                "error_message = excluded.error_message, checked_at = excluded.checked_at, "
                "fetched_at = excluded.fetched_at",
                (
                    reference_id,
                    job_id,
                    ResultState(state).value,
                    job_status,
                    file,
                    sha256,
                    size,
                    error_code,
                    error_message,
                    now,
                    fetched_at,
                ),
            )

    def result_counts(self) -> dict[str, int]:
        """The created (or existing) jobs by what is known of their results: ``created``
        (all of them), ``no_job_id`` (cannot be looked up), ``not_checked``, ``waiting``,
        ``completed`` (completed, not fetched), ``fetched`` and ``failed``; every key
        present."""
        out = {"created": 0, "no_job_id": 0, "not_checked": 0}
        out.update({s.value: 0 for s in ResultState})
        with self._lock:
            sql = (
                "SELECT j.job_id IS NULL, r.state, COUNT(*) FROM jobs j "
                + (
                    "LEFT JOIN results r ON r.reference_id = j.reference_id "
                    if self._has_results
                    else "LEFT JOIN (SELECT NULL AS reference_id, NULL AS state) r ON 0 "
                )
                + "WHERE j.state IN ('created', 'exists') GROUP BY 1, 2"
            )
            got = self._db.execute(sql).fetchall()
        for no_id, state, n in got:
            out["created"] += int(n)
            if state is not None:
                out[str(state)] += int(n)
            elif no_id:
                out["no_job_id"] += int(n)
            else:
                out["not_checked"] += int(n)
        return out

    # -- batches ------------------------------------------------------------------------

    def batch_id(self, name: str) -> str | None:
        with self._lock:
            r = self._db.execute("SELECT batch_id FROM batches WHERE name = ?", (name,)).fetchone()
        return None if r is None else str(r[0])

    def remember_batch(self, name: str, batch_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?)", (name, batch_id, _now())
            )


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_file(name: str, real: str) -> None:
    """Refuse a ledger file that exists but cannot be one: empty, not SQLite, truncated.

    A zero-byte file opened as SQLite is an empty database, and would be taken for a new
    ledger: every job created before would be sent again.
    """
    try:
        size = os.path.getsize(real)
        with open(real, "rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        raise InputError(name, None, "no such ledger") from None
    except OSError as exc:
        raise InputError(name, None, f"cannot read the ledger: {exc.strerror or exc}") from None
    if size == 0:
        raise InputError(
            name,
            None,
            "the ledger is empty (0 bytes), so it cannot say which jobs were created; "
            "restore it from a copy, or delete it to start afresh (jobs created before "
            "would then be reported as conflicts, never sent twice)",
        )
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        raise InputError(name, None, "not a readable ledger: the file is not a SQLite database")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    counter = int.from_bytes(head[24:28], "big")
    if pages and valid_for == counter and size < pages * page_size:
        raise InputError(
            name,
            None,
            f"the ledger is truncated ({size} bytes; its header says {pages * page_size})",
        )
