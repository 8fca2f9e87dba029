"""Results back: the annotated result of every completed job, saved as ``<reference_id>.json``.

For every job the ledger knows as created (or existing), :func:`fetch_results` (and
:meth:`Submitter.fetch_results <prelabel.submit.client.Submitter.fetch_results>`):

1. ``GET /v1/projects/:project_id/jobs/:job_id`` (api-notes 1.3); a status other than
   ``completed`` (compared case-insensitively) leaves the job ``waiting`` for the next run;
2. ``GET /v1/attachments?url=RESULT_URL`` with the key (api-notes 1.4), which redirects to a
   signed URL; the redirect is followed by a *separate* request without the ``x-api-key``
   header, to an ``https://`` target (``http://`` only on loopback, never down from https),
   at most :data:`MAX_REDIRECTS` hops;
3. the body, read up to ``Limits.result_bytes``, must be JSON of the video result shape
   (``data.annotation_data.annotations`` trackers, ``data.video_data.frames``) and must not
   hold the key; it is saved as the server sent it, atomically, and the ledger records it
   (``fetched``), so a rerun fetches it no more.

Every request goes through the Submitter's one retry loop, rate limit, deadline and
scrubbing boundary. A file name is the reference_id with every character outside
``[A-Za-z0-9._-]`` (and a leading ``.``) percent-encoded, so ``urllib.parse.unquote`` of
the stem gives the reference_id back (see :func:`result_file_name`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx
import orjson
from pydantic import SecretStr

from prelabel.errors import InputError, SubmitError
from prelabel.submit import api
from prelabel.submit.api import Outcome, Verdict
from prelabel.submit.ledger import Ledger, LedgerRow, ResultRow, ResultState
from prelabel.submit.limits import RetryBudget
from prelabel.submit.outcomes import RunStatus, RunTotals, retries_note, withheld_note
from prelabel.submit.secrets import WITHHELD
from prelabel.submit.transport import Answer, AnswerTooLarge, answer_of, body_of, deadline

if TYPE_CHECKING:
    from prelabel.submit.client import Submitter
    from prelabel.submit.config import Limits, Retries, Timeouts

MAX_REDIRECTS = 5
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
# names Windows reserves whatever the extension
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
)

# codes a fetch records (prelabel's own, never sent by the server)
UNSAFE_NAME = "unsafe_reference_id"
NAME_COLLISION = "file_name_collision"
NO_RESULT_URL = "no_result_url"
REDIRECT_REFUSED = "redirect_refused"
TOO_MANY_REDIRECTS = "too_many_redirects"
RESULT_TOO_LARGE = "result_too_large"
RESULT_HOLDS_KEY = "result_holds_key"
INVALID_RESULT = "invalid_result"
JOB_NOT_FOUND = "job_not_found"
WRITE_FAILED = "write_failed"
INVALID_ANSWER = "invalid_job_answer"
JOB_MISMATCH = "job_mismatch"

# what the fetch keeps of any text a server chose (a message, a code, a status): one line
# of at most this many characters, in the ledger, the report and on the terminal alike
MAX_TEXT = 300
MAX_STATUS = 100
MAX_RESULT_URL = 8192
RESULT_URL_SCHEMES = frozenset({"https", "http", "s3", "gs"})  # api-notes 4 (attachments)


class FetchStatus(RunStatus):
    """What happened to one job's result in this run."""

    FETCHED = "fetched"  # saved by this run
    DONE = "done"  # fetched by an earlier run and its file is there: not fetched again
    WAITING = "waiting"  # the job is not completed yet: left for the next run
    FAILED = "failed"  # see error_code; the next run tries again
    NO_JOB_ID = "no_job_id"  # created, but the ledger has no job_id to look it up by
    NOT_FETCHED = "not_fetched"  # the run stopped before this job

    @property
    def ok(self) -> bool:
        return self in (FetchStatus.FETCHED, FetchStatus.DONE, FetchStatus.WAITING)


@dataclass(frozen=True, kw_only=True)
class FetchOutcome:
    """One job's line in the fetch report."""

    reference_id: str
    status: FetchStatus
    job_id: str | None = None
    job_status: str | None = None  # what the API last said of the job
    file: str | None = None  # the saved file's name in the output folder
    size: int | None = None
    attempts: int = 0
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_id": self.reference_id,
            "status": self.status,
            "job_id": self.job_id,
            "job_status": self.job_status,
            "file": self.file,
            "size": self.size,
            "attempts": self.attempts,
            "error_code": self.error_code,
            "error_message": self.error_message,
        }


@dataclass
class FetchResult(RunTotals[FetchOutcome]):
    """A results fetch's totals (:class:`RunTotals`), its retries by cause, requests,
    withheld values and time taken."""

    statuses = FetchStatus
    retries_by_cause: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    withheld: int = 0
    elapsed: float = 0.0

    @property
    def retries(self) -> int:
        return sum(self.retries_by_cause.values())

    @property
    def ok(self) -> bool:
        """Every job fetched (now or before) or still waiting, and the run not stopped."""
        return self._settled()

    @property
    def waiting(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status is FetchStatus.WAITING]

    def summary(self) -> str:
        text = self._counted("nothing to fetch") + retries_note(self.retries, self.retries_by_cause)
        text += withheld_note(self.withheld)
        if self.elapsed > 0:
            text += f"; {self.elapsed:.1f} s"
        return text


# -- file names and the result shape ----------------------------------------------------


def result_file_name(reference_id: str) -> str | None:
    """``<reference_id>.json`` with every character outside ``[A-Za-z0-9._-]`` as ``%XX``
    of its UTF-8 bytes (``%`` included, so the encoding is reversible), a leading ``.`` and
    the first letter of a name Windows reserves (``CON``, ``NUL``...) encoded too; None
    when there is no such name (empty, not encodable, longer than 255 bytes)."""
    if not reference_id or len(reference_id) > 250:  # a character is at least one byte
        return None
    try:
        parts = [
            c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in reference_id
        ]
    except UnicodeEncodeError:  # a lone surrogate
        return None
    stem = "".join(parts)
    if stem.startswith(".") or stem.split(".")[0].upper() in _RESERVED:
        stem = f"%{ord(stem[0]):02X}{stem[1:]}"
    name = stem + ".json"
    return name if len(name.encode()) <= 255 else None


def result_problem(obj: Any) -> tuple[str, str] | None:
    """The first way ``obj`` is not a video result (JSON path, message), or None.

    Checked: ``data.annotation_data.annotations`` is a list of trackers (objects with a
    string ``type`` and a ``frames`` object of objects; ``_id`` and ``label``, when there,
    strings) and ``data.video_data.frames`` a list of objects with a string ``frame_id``.
    The geometry inside is for the readers of the results (export, compare) to judge."""
    if not isinstance(obj, dict):
        return "$", "a result must be a JSON object"
    data = obj.get("data")
    if not isinstance(data, dict):
        return "$.data", "missing or not an object"
    ad = data.get("annotation_data")
    if not isinstance(ad, dict):
        return "$.data.annotation_data", "missing or not an object (not a video result?)"
    trackers = ad.get("annotations")
    if not isinstance(trackers, list):
        return "$.data.annotation_data.annotations", "missing or not a list"
    for i, t in enumerate(trackers):
        where = f"$.data.annotation_data.annotations[{i}]"
        if not isinstance(t, dict):
            return where, "a tracker must be an object"
        if not isinstance(t.get("type"), str):
            return f"{where}.type", "missing or not a string"
        for key in ("_id", "label"):
            if key in t and not isinstance(t[key], str):
                return f"{where}.{key}", "not a string"
        frames = t.get("frames")
        if not isinstance(frames, dict):
            return f"{where}.frames", "missing or not an object"
        for fid, shape in frames.items():
            if not isinstance(shape, dict):
                return f"{where}.frames[{orjson.dumps(fid).decode()}]", "not an object"
    vd = data.get("video_data")
    if not isinstance(vd, dict):
        return "$.data.video_data", "missing or not an object"
    frames_list = vd.get("frames")
    if not isinstance(frames_list, list):
        return "$.data.video_data.frames", "missing or not a list"
    for i, f in enumerate(frames_list):
        if not isinstance(f, dict) or not isinstance(f.get("frame_id"), str):
            return f"$.data.video_data.frames[{i}]", "not an object with a string frame_id"
    return None


def redirect_target(current: httpx.URL, location: str) -> httpx.URL | str:
    """The URL a redirect's ``location`` leads to from ``current``, or why it is refused:
    only ``https://`` (``http://`` to loopback hosts, and never down from https), no
    credentials in the URL."""
    if not location or location == WITHHELD:
        return "the redirect has no usable Location (missing, or it held the API key)"
    try:
        target = current.join(location)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        return f"the redirect's Location is not a URL ({exc})"
    scheme = target.scheme
    if scheme not in ("https", "http"):
        return f"the redirect leads to a {scheme or 'scheme-less'}: URL; only https is followed"
    if not target.host:
        return "the redirect leads to a URL without a host"
    if scheme == "http" and not api.is_loopback(target.host):
        return f"the redirect leads to plain http:// on {target.host}; only https is followed"
    if scheme == "http" and current.scheme == "https":
        return "the redirect goes down from https to http"
    if target.userinfo:
        return "the redirect's URL holds credentials"
    return target


def said(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """Server text as the fetch keeps it: on one line (control characters escaped, see
    :func:`prelabel.errors.printable`) and cut to ``limit`` characters."""
    if text is None:
        return None
    from prelabel.errors import printable

    line = printable(text[: limit * 4])
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _shown(value: Any) -> str:
    """A server value in a message: its repr, bounded."""
    return said(repr(value) if not isinstance(value, str) else repr(value[:80])) or ""


def status_problem(status: Any) -> str | None:
    """Why a job's ``status`` is not one (a short printable string), or None."""
    if not isinstance(status, str):
        return f"the API's job status is not a string (got {type(status).__name__})"
    if not status or len(status) > MAX_STATUS or not status.isprintable():
        n = len(status)
        return f"the API's job status is not a short printable word (got {n} characters)"
    return None


def result_url_problem(url: Any) -> str | None:
    """Why a completed job's ``result`` is not a URL to hand to the attachments API, or
    None: an absolute ``https``/``http``/``s3``/``gs`` URL with a host, no credentials, no
    spaces or control characters, at most :data:`MAX_RESULT_URL` characters. It is never
    requested itself: only passed to ``/v1/attachments`` (with the key, to the API)."""
    if url == WITHHELD:
        return "the job's result URL held the API key; withheld"
    if not isinstance(url, str) or not url:
        return "the job is completed but names no result URL"
    if len(url) > MAX_RESULT_URL:
        return f"the job's result URL is {len(url)} characters long (at most {MAX_RESULT_URL})"
    if not url.isprintable() or any(c.isspace() for c in url):
        return "the job's result URL holds spaces or control characters"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "the job's result URL is not a URL"
    if parsed.scheme not in RESULT_URL_SCHEMES or not parsed.host:
        return f"the job's result URL is not an absolute {'/'.join(sorted(RESULT_URL_SCHEMES))} URL"
    if parsed.userinfo:
        return "the job's result URL holds credentials"
    return None


def job_mismatch(data: dict[str, Any], row: LedgerRow) -> str | None:
    """Why the answer to GET job is about another job (its ``job_id`` or ``reference_id``,
    when given, differ from the ledger's), or None."""
    for key, ours in (("job_id", row.job_id), ("reference_id", row.reference_id)):
        theirs = data.get(key)
        if theirs is not None and theirs != ours:
            return f"the API answered for another job ({key} {_shown(theirs)}); not used"
    return None


# -- the fetch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Final:
    """A failure that no retry in this run would change."""

    code: str
    message: str
    job_status: str | None = None


class _Fetch:
    """One run of fetching results (see the module docstring), on a Submitter's client,
    retry loop, rate limiter and scrubber."""

    def __init__(
        self,
        submitter: Submitter,
        out_dir: Path,
        on_outcome: Callable[[FetchOutcome], None] | None,
    ) -> None:
        self.s = submitter
        self.out_dir = out_dir
        self.on_outcome = on_outcome
        self.result = FetchResult()
        self.budget = (submitter.retries.budget or RetryBudget()).reset()
        self.cap = submitter.limits.result_bytes
        t = submitter.timeouts
        base = httpx.URL(submitter.base_url)
        # storage gets no key: a client of its own, with no default header to forget
        self.storage = httpx.Client(
            timeout=httpx.Timeout(t.request, connect=min(t.connect, t.request)),
            follow_redirects=False,
            verify=True,
            trust_env=not api.is_loopback(base.host),
            transport=submitter._transport,
            headers={"user-agent": submitter._client.headers["user-agent"]},
        )
        from prelabel.submit.transport import install_deadlines

        install_deadlines(self.storage)

    # -- run --------------------------------------------------------------------------

    def run(self) -> FetchResult:
        s = self.s
        started = time.monotonic()
        withheld_before = s._scrubber.withheld
        plan = self._plan(s.ledger.fetchable())
        try:
            n = s.limits.concurrency
            todo = [(row, name) for row, name in plan if name is not None]
            if n > 1 and len(todo) > 1:
                with ThreadPoolExecutor(n, thread_name_prefix="fetch") as pool:
                    for f in [pool.submit(self._one, row, name) for row, name in todo]:
                        f.result()
            else:
                for row, name in todo:
                    self._one(row, name)
        except BaseException:
            s._halt("interrupted")
            raise
        finally:
            self.storage.close()
        r = self.result
        r.stop_reason = s._stop_reason
        r.withheld = s._scrubber.withheld - withheld_before
        r.elapsed = time.monotonic() - started
        s._stop.clear()
        return r

    def _plan(
        self, rows: Iterable[tuple[LedgerRow, ResultRow | None]]
    ) -> list[tuple[LedgerRow, str | None]]:
        """What to look at: jobs fetched before (their file in place) and jobs that cannot
        be looked up or named are settled here, with no request."""
        out: list[tuple[LedgerRow, str | None]] = []
        names: dict[str, str] = {}  # case-folded file name -> reference_id
        for row, prev in rows:
            ref = row.reference_id
            name = result_file_name(ref)
            if _fetched_before(prev, self.out_dir):
                assert prev is not None
                assert prev.file is not None
                names[prev.file.casefold()] = ref
                self._emit(
                    FetchOutcome(
                        reference_id=ref,
                        status=FetchStatus.DONE,
                        job_id=row.job_id,
                        job_status=prev.job_status,
                        file=prev.file,
                        size=prev.size,
                    )
                )
                continue
            if not row.job_id:
                self._emit(
                    FetchOutcome(
                        reference_id=ref,
                        status=FetchStatus.NO_JOB_ID,
                        error_code=row.error_code or api.JOB_ID_UNKNOWN,
                        error_message=row.error_message
                        or "the ledger has no job_id for it (rerun submit to look it up)",
                    )
                )
                continue
            if name is None:
                self._fail(row, _Final(UNSAFE_NAME, "the reference_id makes no safe file name"))
                continue
            other = names.get(name.casefold())
            if other is not None and other != ref:
                self._fail(
                    row,
                    _Final(
                        NAME_COLLISION,
                        f"its file name {name} differs from {other!r}'s only in case",
                    ),
                )
                continue
            names[name.casefold()] = ref
            out.append((row, name))
        return out

    def _emit(self, o: FetchOutcome) -> None:
        with self.s._emit_lock:
            self.result.counts[o.status] += 1
            self.result.outcomes.append(o)
            if self.on_outcome is not None:
                self.on_outcome(o)

    def _fail(self, row: LedgerRow, f: _Final, attempts: int = 0) -> None:
        # the one place a failure's texts are kept: bounded, on one line
        f = _Final(said(f.code, MAX_STATUS) or "", said(f.message) or "", said(f.job_status))
        self.s.ledger.record_result(
            row.reference_id,
            ResultState.FAILED,
            job_id=row.job_id,
            job_status=f.job_status,
            error_code=f.code,
            error_message=f.message,
        )
        self._emit(
            FetchOutcome(
                reference_id=row.reference_id,
                status=FetchStatus.FAILED,
                job_id=row.job_id,
                job_status=f.job_status,
                attempts=attempts,
                error_code=f.code,
                error_message=f.message,
            )
        )

    def _not_fetched(self, row: LedgerRow) -> None:
        self._emit(
            FetchOutcome(
                reference_id=row.reference_id, status=FetchStatus.NOT_FETCHED, job_id=row.job_id
            )
        )

    def _one(self, row: LedgerRow, name: str) -> None:
        s = self.s
        if s._stop.is_set():
            self._not_fetched(row)
            return
        assert row.job_id is not None
        self.budget.job_started()
        job = self._retry(lambda: self._get_job(row.job_id or ""))
        if job is None:
            self._not_fetched(row)
            return
        if isinstance(job, _Final):
            self._fail(row, job)
            return
        mismatch = job_mismatch(job, row)
        if mismatch is not None:
            self._fail(row, _Final(JOB_MISMATCH, mismatch))
            return
        bad_status = status_problem(job.get("status"))
        if bad_status is not None:
            self._fail(row, _Final(INVALID_ANSWER, bad_status))
            return
        status_text: str = job["status"]
        if status_text.strip().lower() != api.COMPLETED:
            s.ledger.record_result(
                row.reference_id, ResultState.WAITING, job_id=row.job_id, job_status=status_text
            )
            self._emit(
                FetchOutcome(
                    reference_id=row.reference_id,
                    status=FetchStatus.WAITING,
                    job_id=row.job_id,
                    job_status=status_text,
                )
            )
            return
        url = job.get("result")
        why = result_url_problem(url)
        if why is not None:
            self._fail(row, _Final(NO_RESULT_URL, why, status_text))
            return
        s.ledger.record_result(
            row.reference_id, ResultState.COMPLETED, job_id=row.job_id, job_status=status_text
        )
        attempts = 0

        def download() -> bytes | _Final | Outcome:
            nonlocal attempts
            attempts += 1
            return self._download(url)

        body = self._retry(download)
        if body is None:
            self._not_fetched(row)
            return
        if isinstance(body, _Final):
            self._fail(row, replace(body, job_status=status_text), attempts)
            return
        checked = self._check(body)
        if checked is not None:
            self._fail(row, replace(checked, job_status=status_text), attempts)
            return
        try:
            from prelabel.writer import write_atomic

            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.out_dir / name, lambda f: _write(f, body))
        except (OSError, InputError) as exc:
            why = f"cannot write {name}: {getattr(exc, 'strerror', None) or exc}"
            self._fail(row, _Final(WRITE_FAILED, why, status_text), attempts)
            return
        digest = hashlib.sha256(body).hexdigest()
        s.ledger.record_result(
            row.reference_id,
            ResultState.FETCHED,
            job_id=row.job_id,
            job_status=status_text,
            file=name,
            sha256=digest,
            size=len(body),
        )
        self._emit(
            FetchOutcome(
                reference_id=row.reference_id,
                status=FetchStatus.FETCHED,
                job_id=row.job_id,
                job_status=status_text,
                file=name,
                size=len(body),
                attempts=attempts,
            )
        )

    def _check(self, body: bytes) -> _Final | None:
        """The key must not be in a saved file, as bytes nor in any string once parsed
        (``\\u`` escapes): every reader of the file would get it back; the body must be a
        video result."""
        holds = _Final(RESULT_HOLDS_KEY, "the result holds the API key; not saved")
        if self.s._scrubber.holds(body.decode("utf-8", "replace")):
            return holds
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return _Final(INVALID_RESULT, f"not JSON: {exc.msg} at byte {exc.pos}")
        if self.s._scrubber.holds_in(obj):
            return holds
        problem = result_problem(obj)
        if problem is not None:
            return _Final(INVALID_RESULT, f"{problem[0]}: {problem[1]}")
        return None

    # -- requests ---------------------------------------------------------------------

    def _retry(self, attempt: Callable[[], Any]) -> Any:
        """``attempt`` through the Submitter's one retry loop; None when stopped."""
        s = self.s

        def one(_: int) -> Any:
            with s._emit_lock:
                self.result.requests += 1
            return attempt()

        def retrying(oc: Outcome) -> _Final | None:
            spent = self.budget.failed()
            if spent is not None:
                s._halt(f"the API keeps failing: {spent} (last: {oc.code} {said(oc.message)})")
                return None
            with s._emit_lock:
                self.result.retries_by_cause[oc.code] += 1
            if s.on_retry is not None:
                s.on_retry(oc.code)
            return None

        from prelabel.submit.client import _Ended

        got = s._retrying(one, retrying)
        if isinstance(got, _Ended):
            if got.stopped or got.last is None or s._stop.is_set():
                return None
            last = got.last
            return _Final(
                last.code,
                f"{said(last.message)} (gave up after {got.attempts} attempts; rerun to try again)",
            )
        self.budget.answered()
        return got

    def _get_job(self, job_id: str) -> dict[str, Any] | _Final | Outcome:
        got = self.s._request("GET", api.job_path(self.s.project_id, job_id))
        if not isinstance(got, Answer):
            return got if got.verdict is Verdict.RETRY else _Final(got.code, got.message)
        data = api.data_of(got)
        return data if data is not None else self._api_failure(got, "GET job")

    def _api_failure(self, got: Answer, what: str) -> _Final | Outcome:
        """An API answer that is not what was asked: retried, the job failed, or (a refused
        key) the run stopped."""
        oc = api.classify_answer(got)
        if oc.verdict is Verdict.CREATED or (200 <= got.status < 300):
            return Outcome(Verdict.RETRY, f"http_{got.status}", f"{what}: unreadable answer")
        if oc.verdict is Verdict.RETRY:
            return oc
        if got.status in (401, 403) or oc.code in api.AUTH_CODES:
            self.s._halt(f"{said(oc.code, MAX_STATUS)}: {said(oc.message)}")
            return _Final(oc.code, oc.message)
        if got.status == 404:
            return _Final(JOB_NOT_FOUND if what == "GET job" else oc.code, f"{what}: {oc.message}")
        return _Final(oc.code, f"{what}: {oc.message}")

    def _download(self, result_url: str) -> bytes | _Final | Outcome:
        """One attempt: the attachments request (with the key), its redirects (without),
        the body. A fresh redirect each attempt: a signed URL may have expired meanwhile."""
        s = self.s
        first = self._get(s._client, api.ATTACHMENTS_PATH, {"url": result_url}, key=True)
        if not isinstance(first, _Raw):
            return first
        current, hops = first, 0
        while current.status in (301, 302, 303, 307, 308):
            if hops == MAX_REDIRECTS:
                return _Final(TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects")
            hops += 1
            target = redirect_target(current.url, current.headers.get("location", ""))
            if isinstance(target, str):
                return _Final(REDIRECT_REFUSED, target)
            nxt = self._get(self.storage, str(target), None, key=False)
            if not isinstance(nxt, _Raw):
                return nxt
            current = nxt
        if current.status == 200 and current.body is not None:
            return current.body
        return self._storage_failure(current)

    def _storage_failure(self, got: _Raw) -> _Final | Outcome:
        answer = got.answer
        if got.api:
            return self._api_failure(answer, "attachments")
        code = f"storage_{got.status}"
        text = answer.text or _short(answer.data)
        if got.status >= 500 or got.status in api.STATUS_NOT_PROCESSED:
            retry_after = api.parse_retry_after(answer.headers.get("retry-after"))
            return Outcome(Verdict.RETRY, code, text, retry_after=retry_after, status=got.status)
        return _Final(code, f"the storage host answered {got.status}: {text}")

    def _get(
        self, client: httpx.Client, url: str, params: dict[str, str] | None, *, key: bool
    ) -> _Raw | _Final | Outcome:
        """One GET under one deadline: a 200's body raw up to the result cap, any other
        answer parsed (scrubbed) up to the API answer cap; redirects not followed."""
        s = self.s
        headers = s._headers() if key else {}
        try:
            with deadline(s.timeouts.request):
                request = client.build_request("GET", url, params=params, headers=headers)
                if not key and api.API_KEY_HEADER in request.headers:  # pragma: no cover
                    raise SubmitError("internal: the key would have gone to storage")
                response = client.send(request, stream=True)
                try:
                    status = response.status_code
                    if status == 200:
                        body = body_of(response, self.cap)
                        meta = answer_of(status, response.headers, b"", s._scrubber)
                        return _Raw(status, meta.headers, body, meta, key, request.url)
                    if 300 <= status < 400:
                        meta = answer_of(status, response.headers, b"", s._scrubber)
                        return _Raw(status, meta.headers, None, meta, key, request.url)
                    answer = answer_of(
                        status,
                        response.headers,
                        body_of(response, s.limits.answer_bytes),
                        s._scrubber,
                    )
                    return _Raw(status, answer.headers, None, answer, key, request.url)
                finally:
                    response.close()
        except AnswerTooLarge as exc:
            return _Final(RESULT_TOO_LARGE, f"{s._scrub(str(exc))} (Limits.result_bytes)")
        except httpx.InvalidURL as exc:  # httpx parses a redirect's Location as it reads it
            why = f"the redirect's Location is not a URL: {s._scrub(str(exc))}"
            return _Final(REDIRECT_REFUSED, why)
        except httpx.HTTPError as exc:
            oc = api.classify_exception(exc)
            oc = Outcome(oc.verdict, oc.code, s._scrub(oc.message), maybe_sent=oc.maybe_sent)
            return oc if oc.verdict is Verdict.RETRY else _Final(oc.code, oc.message)


@dataclass(frozen=True)
class _Raw:
    status: int
    headers: dict[str, str]
    body: bytes | None  # a 200's body, unparsed and unscrubbed (checked before saving)
    answer: Answer
    api: bool  # from the API (with the key), not from storage
    url: httpx.URL  # what was asked for (a relative Location is resolved against it)


def _fetched_before(prev: ResultRow | None, out_dir: Path) -> bool:
    """Fetched by an earlier run, and its file is in this output folder."""
    return (
        prev is not None
        and prev.state == ResultState.FETCHED.value
        and bool(prev.file)
        and (out_dir / str(prev.file)).is_file()
    )


def _write(f: BinaryIO, body: bytes) -> None:
    f.write(body)


def _short(obj: Any) -> str:
    if obj is None:
        return ""
    text = orjson.dumps(obj).decode("utf-8", "replace")
    return text if len(text) <= 200 else text[:197] + "..."


def fetch_results(
    ledger: str | PathLike[str] | Ledger,
    out_dir: str | PathLike[str],
    *,
    api_key: str | SecretStr,
    base_url: str | None = None,
    project_id: str | None = None,
    retries: Retries | None = None,
    limits: Limits | None = None,
    timeouts: Timeouts | float | None = None,
    transport: httpx.BaseTransport | None = None,
    on_outcome: Callable[[FetchOutcome], None] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> FetchResult:
    """Fetch the result of every completed job of ``ledger`` into ``out_dir`` (see the
    module docstring); the project and the API come from the ledger (a ``base_url`` or
    ``project_id`` given must match it). Jobs not completed yet are ``waiting`` in the
    result; rerunning fetches only what is not fetched yet."""
    from prelabel.submit.client import Submitter

    led = ledger if isinstance(ledger, Ledger) else Ledger(ledger, lock=True, create=False)
    try:
        bound_project, bound_url = led.bound()
        with Submitter(
            project_id or bound_project,
            api_key,
            base_url=base_url or bound_url,
            ledger=led,
            retries=retries,
            limits=limits,
            timeouts=timeouts,
            transport=transport,
            on_retry=on_retry,
        ) as s:
            return s.fetch_results(out_dir, on_outcome=on_outcome)
    finally:
        if not isinstance(ledger, Ledger):
            led.close()


def saved_results(out_dir: str | PathLike[str]) -> dict[str, Path]:
    """reference_id -> saved result file of a results folder (the inverse of
    :func:`result_file_name`), for the readers of results."""
    from urllib.parse import unquote

    out: dict[str, Path] = {}
    for entry in sorted(os.scandir(out_dir), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".json") and not entry.name.startswith("."):
            out[unquote(entry.name[: -len(".json")])] = Path(entry.path)
    return out
