"""The submitter: sends job payloads to the API exactly once each, resumably.

One ``httpx.Client`` (pooled, no redirects, TLS verified, explicit timeouts) shared by a
bounded pool of worker threads behind one rate limiter. Every job goes through the ledger:
``sending`` is committed before its request, the answer after it, so a run killed at any
moment resumes without losing or duplicating a job (see ``docs/submit.md``).

Library use::

    with Submitter("PROJECT", api_key, ledger="jobs.ledger.sqlite", workflow_id="W") as s:
        result = s.submit(payloads)          # any iterable of job dicts
    print(result.counts, result.ok)
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from queue import Queue
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import orjson
from pydantic import SecretStr

from prelabel import __version__
from prelabel.errors import InputError, SubmitError, param
from prelabel.submit import api
from prelabel.submit.api import Outcome, Verdict
from prelabel.submit.config import Limits, Retries, Timeouts
from prelabel.submit.ledger import JobState, Ledger
from prelabel.submit.limits import Backoff, RateLimiter, RetryBudget
from prelabel.submit.outcomes import BatchInfo, JobOutcome, Status, SubmitResult
from prelabel.submit.plan import (
    Prepared,
    outcome_of,
    plan_against,
    prepare_payload,
    schema_problem,
)
from prelabel.submit.secrets import Scrubber, is_id
from prelabel.submit.transport import (
    Answer,
    AnswerTooLarge,
    deadline,
    install_deadlines,
    read_answer,
)

if TYPE_CHECKING:
    from prelabel.submit.results import FetchOutcome, FetchResult

log = logging.getLogger("prelabel.submit")

RESUME_HINT = "nothing is lost: resume with the same command"

_T = TypeVar("_T")


@dataclass(frozen=True)
class _Ended:
    """A retry loop that ended without a result: stopped, or given up after ``attempts``."""

    last: Outcome | None  # the last attempt's failure (None: stopped before the first)
    attempts: int
    stopped: bool

    def why(self, what: str) -> str:
        if self.stopped:
            return f"{what}: interrupted"
        last = f" ({self.last.code}: {self.last.message})" if self.last else ""
        return f"{what}: gave up after {self.attempts} attempts{last}; {RESUME_HINT}"


class Submitter:
    """Creates jobs through the API with a resumable ledger.

    ``ledger``: a path (kept across runs: rerunning sends only what is not yet created), a
    :class:`Ledger`, or None for an in-memory ledger (no resume after a crash).
    ``retries``, ``limits`` and ``timeouts`` group the settings (:mod:`prelabel.submit.config`);
    the run stops (resumable) when the retry budget is spent. ``transport`` replaces the
    network (tests).
    """

    def __init__(
        self,
        project_id: str,
        api_key: str | SecretStr,
        *,
        base_url: str = api.DEFAULT_BASE_URL,
        ledger: str | PathLike[str] | Ledger | None = None,
        workflow_id: str | None = None,
        batch_id: str | None = None,
        validate: bool = True,
        retries: Retries | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | float | None = None,
        fsync: bool = False,
        transport: httpx.BaseTransport | None = None,
        on_outcome: Callable[[JobOutcome], None] | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        if not project_id:
            raise ValueError("project_id is required")
        self.project_id = project_id
        self.base_url = api.check_base_url(base_url)
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        check_api_key(self._key)
        # every string of every answer passes through this before anything keeps it
        self._scrubber = Scrubber(self._key.get_secret_value())
        self.retries = retries or Retries()
        self.limits = limits or Limits()
        if isinstance(timeouts, int | float):
            timeouts = Timeouts(float(timeouts))
        self.timeouts = timeouts or Timeouts()
        self.workflow_id = workflow_id
        self.batch_id = batch_id
        self.validate = validate
        self.on_outcome = on_outcome
        self.on_retry = on_retry
        r = self.retries
        self._backoff = Backoff(r.backoff, r.backoff_cap, r.retry_after_cap, random.Random(r.seed))
        self._limiter = RateLimiter(self.limits.rate)
        self._transport = transport  # the storage client of fetch_results uses it too
        loopback = api.is_loopback(httpx.URL(self.base_url).host)
        n = self.limits.concurrency
        request = self.timeouts.request
        self._client = httpx.Client(
            base_url=self.base_url,
            # each operation's own limit; the whole request is bounded by deadline()
            timeout=httpx.Timeout(request, connect=min(self.timeouts.connect, request)),
            follow_redirects=False,
            verify=True,
            # proxies from the environment only for TLS: a proxy must never see the key
            trust_env=not loopback,
            limits=httpx.Limits(
                max_connections=n, max_keepalive_connections=n, keepalive_expiry=30.0
            ),
            transport=transport,
            headers={"user-agent": f"prelabel/{__version__}", "accept": "application/json"},
        )
        # every socket operation bounded by the request's deadline (proxies included)
        install_deadlines(self._client)
        self._own_ledger = not isinstance(ledger, Ledger)
        try:
            if isinstance(ledger, Ledger):
                self.ledger = ledger
            else:
                self.ledger = Ledger(
                    ":memory:" if ledger is None else ledger, fsync=fsync, lock=True
                )
            self.ledger.acquire()
            self.ledger.bind(project_id, self.base_url)
        except BaseException:
            self._client.close()
            if self._own_ledger and hasattr(self, "ledger"):
                self.ledger.close()
            raise
        self._stop = threading.Event()
        self._stop_reason: str | None = None
        self._emit_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Submitter(project_id={self.project_id!r}, base_url={self.base_url!r})"

    # -- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()
        if self._own_ledger:
            self.ledger.close()

    def __enter__(self) -> Submitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self, reason: str = "interrupted") -> None:
        """Ask a running ``submit`` (or a listing, or a batch's creation) to stop after the
        requests in flight (thread-safe): no new attempt starts, no backoff is waited out.
        Listings and batch creations stay refused ("interrupted") until the next ``submit``,
        which starts afresh."""
        self._halt(reason)

    def _halt(self, reason: str) -> None:
        with self._emit_lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        self._stop.set()

    # -- HTTP helpers -------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {api.API_KEY_HEADER: self._key.get_secret_value()}

    def _scrub(self, text: str) -> str:
        """Free text of a library or ours that may quote a server: the key never passes."""
        return self._scrubber.text(text)

    def _request(self, method: str, path: str, **kw: Any) -> Outcome | Answer:
        """One request under one deadline (connect, send, the whole answer), its answer
        read up to the size cap and passed through the scrubbing boundary."""
        headers = self._headers()
        if "content" in kw:
            headers["content-type"] = "application/json"
        limit = self.timeouts.request
        started = time.monotonic()
        try:
            with deadline(limit):
                request = self._client.build_request(method, path, headers=headers, **kw)
                response = self._client.send(request, stream=True)
                try:
                    return read_answer(response, self._scrubber, self.limits.answer_bytes)
                finally:
                    response.close()
        except (httpx.HTTPError, httpx.InvalidURL, AnswerTooLarge) as exc:
            # InvalidURL: a redirect's Location httpx cannot parse (the run stops: FATAL)
            oc = api.classify_exception(exc)
            msg = self._scrub(oc.message)
            if isinstance(exc, httpx.TimeoutException) and (
                time.monotonic() - started >= limit * 0.99
            ):
                msg += f" (no complete answer within the {limit:g} s deadline)"
            return replace(oc, message=msg)

    def _retrying(
        self,
        attempt: Callable[[int], _T | Outcome],
        retrying: Callable[[Outcome], _T | None] | None = None,
    ) -> _T | _Ended:
        """The one retry loop of every request kind.

        ``attempt(n)`` makes attempt n and returns its result, or the :class:`Outcome` of a
        failure worth another attempt. Before each attempt: a slot of the rate limiter;
        after a failure, unless attempts or time are spent: ``retrying`` (which may end the
        loop with a result), the server's Retry-After imposed on every worker, and the
        backoff. :meth:`stop` ends every wait at once. Returns the result, or
        :class:`_Ended` (given up, or stopped).
        """
        first = time.monotonic()
        last: Outcome | None = None
        n = 0
        while True:
            if not self._limiter.acquire(self._stop):
                return _Ended(last, n, stopped=True)
            n += 1
            got = attempt(n)
            if not isinstance(got, Outcome):
                return got
            last = got
            spent = time.monotonic() - first > self.retries.give_up_after
            if n >= self.retries.max_attempts or spent:
                return _Ended(got, n, stopped=False)
            if retrying is not None:
                ended = retrying(got)
                if ended is not None:
                    return ended
            if got.retry_after is not None:
                self._limiter.pause(min(got.retry_after, self.retries.retry_after_cap))
            if self._stop.wait(self._backoff.delay(n, got.retry_after)):
                return _Ended(got, n, stopped=True)

    def _get_data(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET with retries (reads are safe to repeat); the ``data`` object of the answer."""

        def attempt(_: int) -> dict[str, Any] | Outcome:
            got = self._request("GET", path, params=params)
            if isinstance(got, Answer):
                data = api.data_of(got)
                if data is not None:
                    return data
                oc = api.classify_answer(got)
                if oc.verdict is Verdict.CREATED:  # 200 but not the shape of a listing
                    oc = Outcome(Verdict.RETRY, "http_200", "unreadable answer")
            else:
                oc = got
            if oc.verdict is not Verdict.RETRY:
                raise SubmitError(f"GET {path}: {oc.code}: {oc.message}")
            return oc

        got = self._retrying(attempt)
        if isinstance(got, _Ended):
            raise SubmitError(got.why(f"GET {path}"))
        return got

    # -- batches ------------------------------------------------------------------------

    def find_batch(self, name: str) -> str | None:
        """The id of the project's batch called ``name`` (project details), or None."""
        data = self._get_data(api.details_path(self.project_id))
        for b in data.get("batches") or []:
            if isinstance(b, dict) and b.get("name") == name and is_id(b.get("id")):
                return str(b["id"])
        return None

    def create_batch(self, name: str, description: str = "", *, reuse: bool = False) -> BatchInfo:
        """Create a batch, or with ``reuse`` return the one of that name.

        Creating a batch has no idempotency key, so the listing is checked before creating
        and again after any attempt whose answer was lost: a retry never makes two batches.
        """
        if not name:
            raise ValueError("a batch needs a name")
        known = self.ledger.batch_id(name)
        if known and reuse:
            return BatchInfo(known, name, False)
        found = self.find_batch(name)
        if found:
            if not reuse:
                raise SubmitError(f"a batch named {name!r} exists already (batch_id {found})")
            self.ledger.remember_batch(name, found)
            return BatchInfo(found, name, False)
        body = orjson.dumps({"name": name, "description": description})
        maybe_sent = False

        def listed(created: bool) -> BatchInfo | None:
            found = self.find_batch(name)
            if found is None:
                return None
            self.ledger.remember_batch(name, found)
            return BatchInfo(found, name, created)

        def attempt(_: int) -> BatchInfo | Outcome:
            nonlocal maybe_sent
            got = self._request("POST", api.batch_path(self.project_id), content=body)
            if isinstance(got, Answer):
                bid = _batch_id_of(got)
                if bid:
                    self.ledger.remember_batch(name, bid)
                    return BatchInfo(bid, name, True)
                if _unusable_batch_id(got):
                    raise SubmitError(
                        f"batch {name!r} was created, but the server's batch_id is not a "
                        "usable id (it held the API key, or is not text); not recorded"
                    )
                oc = api.classify_answer(got)
            else:
                oc = got
            if oc.code == api.BATCH_EXISTS:
                # ours when an earlier attempt's answer was lost, else someone else's
                info = listed(maybe_sent) if reuse or maybe_sent else None
                if info is None:
                    raise SubmitError(f"a batch named {name!r} exists already")
                return info
            if oc.verdict is not Verdict.RETRY:
                raise SubmitError(f"batch {name!r} not created: {oc.code}: {oc.message}")
            if oc.maybe_sent:
                maybe_sent = True
                return listed(True) or oc
            return oc

        got = self._retrying(attempt)
        if isinstance(got, _Ended):
            raise SubmitError(got.why(f"batch {name!r}"))
        return got

    def batch_jobs(self, batch_id: str) -> Iterator[dict[str, Any]]:
        """Every job of a batch (``id``, ``reference_id``, ``status``), page by page."""
        token = ""
        seen: set[str] = set()
        while True:
            data = self._get_data(
                api.batch_jobs_path(self.project_id, batch_id), {"page_token": token}
            )
            jobs = data.get("jobs") or []
            yield from (j for j in jobs if isinstance(j, dict))
            token = str(data.get("next_page_token") or "")
            if not jobs or not token or token in seen:
                return
            seen.add(token)

    # -- results ------------------------------------------------------------------------

    def fetch_results(
        self,
        out_dir: str | PathLike[str],
        *,
        on_outcome: Callable[[FetchOutcome], None] | None = None,
    ) -> FetchResult:
        """Save the result of every completed job of the ledger as
        ``out_dir/<reference_id>.json`` (:mod:`prelabel.submit.results`): the jobs not
        completed yet are ``waiting``, those fetched before are not fetched again. Same
        retries, rate limit, deadlines and scrubbing as :meth:`submit`; the result's size
        is capped by ``Limits.result_bytes``."""
        from prelabel.submit.results import _Fetch

        self._stop.clear()
        self._stop_reason = None
        return _Fetch(self, Path(out_dir), on_outcome).run()

    # -- submitting ---------------------------------------------------------------------

    def submit(self, payloads: Iterable[Any], *, source: str | None = None) -> SubmitResult:
        """Send every payload not yet created; returns counts and per-job outcomes.

        Stops early (``result.stop_reason``) on a refused key, a redirect, a wrong URL or a
        spent retry budget; rerunning with the same ledger then resumes.
        """
        started = time.monotonic()
        self._stop.clear()
        self._stop_reason = None
        self._budget = (self.retries.budget or RetryBudget()).reset()
        self._result = SubmitResult()
        withheld_before = self._scrubber.withheld
        self._run_id, self._result.recovered = self.ledger.begin_run(source)
        seen: dict[str, str] = {}
        error: list[BaseException] = []
        n = self.limits.concurrency
        q: Queue[Prepared | None] = Queue(maxsize=2 * n)
        workers: list[threading.Thread] = []
        if n > 1:
            for i in range(n):
                t = threading.Thread(
                    target=self._worker, args=(q, error), name=f"submit-{i}", daemon=True
                )
                t.start()
                workers.append(t)
        try:
            for index, payload in _guarded(payloads, self._result):
                if self._stop.is_set():
                    break
                prep = self._plan(index, payload, seen)
                if prep is None:
                    continue
                if workers:
                    q.put(prep)
                else:
                    self._emit(self._send(prep))
        except BaseException:
            self._halt("interrupted")
            raise
        finally:
            for _ in workers:
                q.put(None)
            for t in workers:
                t.join()
        if error:
            raise error[0]
        result = self._result
        if result.input_error is not None and self._stop_reason is None:
            self._stop_reason = f"the input turned bad while sending: {result.input_error}"
        if self._stop_reason is None:
            self._reconcile()
        result.stop_reason = self._stop_reason
        result.retries = sum(result.retries_by_cause.values())
        result.withheld = self._scrubber.withheld - withheld_before
        result.elapsed = time.monotonic() - started
        self.ledger.end_run(self._run_id, result.stop_reason, result.summary())
        self._stop.clear()  # the next call (a listing, a batch) is a new request, not this run
        return result

    def _plan(self, index: int, payload: Any, seen: dict[str, str]) -> Prepared | None:
        prep = prepare_payload(
            index,
            payload,
            workflow_id=self.workflow_id,
            batch_id=self.batch_id,
            validate=False,  # below, once, and only for a job that is going to be sent
        )
        if isinstance(prep, JobOutcome):
            self._emit(prep)
            return None
        earlier = seen.get(prep.reference_id)
        if earlier is not None:
            if earlier == prep.sha256:
                self._emit(outcome_of(prep, None, Status.DUPLICATE))
            else:
                self._emit(
                    outcome_of(
                        prep,
                        None,
                        Status.CONFLICT,
                        error_code=api.LOCAL_PAYLOAD_CHANGED,
                        error_message="reference_id used earlier in this input with another "
                        "payload",
                    )
                )
            return None
        seen[prep.reference_id] = prep.sha256
        row = self.ledger.get(prep.reference_id)
        decided = plan_against(row, prep)
        if decided is not None:
            self._emit(decided)
            return None
        if prep.problem is None and self.validate:
            prep = replace(prep, problem=schema_problem(prep.body))
        if prep.problem is not None:
            code, message = prep.problem
            self.ledger.refuse(
                prep.reference_id, prep.sha256, prep.batch_id, self._run_id, code, message
            )
            self._emit(
                outcome_of(
                    prep,
                    row,
                    Status.FAILED,
                    state=JobState.FAILED.value,
                    error_code=code,
                    error_message=message,
                )
            )
            return None
        return replace(prep, maybe_sent=bool(row and row.maybe_sent))

    def _worker(self, q: Queue[Prepared | None], error: list[BaseException]) -> None:
        while True:
            prep = q.get()
            if prep is None:
                return
            try:
                if self._stop.is_set():
                    self._emit(self._not_sent(prep))
                else:
                    self._emit(self._send(prep))
            except BaseException as exc:  # surfaced by submit() once the workers end
                with self._emit_lock:
                    error.append(exc)
                self._halt(f"internal error: {type(exc).__name__}")

    def _emit(self, outcome: JobOutcome) -> None:
        with self._emit_lock:
            self._result.counts[outcome.status] += 1
            self._result.outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)

    def _not_sent(self, prep: Prepared) -> JobOutcome:
        """``not_sent``, with what the ledger last recorded for the job."""
        row = self.ledger.get(prep.reference_id)
        return outcome_of(
            prep,
            row,
            Status.NOT_SENT,
            error_code=row.error_code if row else None,
            error_message=row.error_message if row else None,
        )

    def _send(self, prep: Prepared) -> JobOutcome:
        """Send one job until it has a final answer, the run stops, or it gives up.

        The ledger hears of every attempt before it goes out (``sending``) and of its
        answer after; an outcome that is not final leaves the job ``pending``."""
        ref = prep.reference_id
        maybe_sent = prep.maybe_sent
        attempts = 0  # the ledger's count for the job, earlier runs included
        self._budget.job_started()

        def out(status: Status, state: JobState, **kw: Any) -> JobOutcome:
            return JobOutcome(
                index=prep.index,
                reference_id=ref,
                status=status,
                state=state.value,
                attempts=attempts,
                **kw,
            )

        def settle(
            status: Status,
            state: JobState,
            code: str | None = None,
            msg: str | None = None,
            job_id: str | None = None,
        ) -> JobOutcome:
            """Record the attempt's answer in the ledger and return it as the outcome."""
            self.ledger.record(
                ref, state, job_id=job_id, error_code=code, error_message=msg, maybe_sent=maybe_sent
            )
            return out(status, state, job_id=job_id, error_code=code, error_message=msg)

        def attempt(_: int) -> JobOutcome | Outcome:
            nonlocal attempts, maybe_sent
            attempts = self.ledger.mark_sending(ref, prep.sha256, prep.batch_id, self._run_id)
            with self._emit_lock:
                self._result.requests += 1
            got = self._request("POST", api.jobs_path(self.project_id), content=prep.body)
            oc = api.classify_answer(got) if isinstance(got, Answer) else got
            msg = oc.message
            if oc.verdict is Verdict.CREATED:
                self._budget.answered()
                # a code here is job_id_withheld: created, the id not usable
                return settle(
                    Status.CREATED, JobState.CREATED, oc.code or None, msg or None, oc.job_id
                )
            if oc.verdict is Verdict.DUPLICATE:
                self._budget.answered()
                if maybe_sent:
                    return settle(Status.EXISTS, JobState.EXISTS)
                why = (
                    f"{oc.code} {msg}: the server has this reference_id but this ledger never "
                    "sent it (another run, ledger or tool created it); not counted as created"
                )
                return settle(Status.CONFLICT, JobState.FAILED, api.LOCAL_FOREIGN_DUPLICATE, why)
            if oc.verdict is Verdict.REJECTED:
                self._budget.answered()
                return settle(Status.FAILED, JobState.FAILED, oc.code, msg)
            if oc.verdict is Verdict.FATAL:
                self._halt(f"{oc.code}: {msg}")
                return settle(Status.NOT_SENT, JobState.PENDING, oc.code, msg)
            maybe_sent = maybe_sent or oc.maybe_sent
            return oc

        def retrying(oc: Outcome) -> JobOutcome | None:
            """Another attempt is due: the job waits as ``pending``, unless the budget of
            the run is spent; the retry is counted here, where it is decided."""
            self.ledger.record(
                ref,
                JobState.PENDING,
                error_code=oc.code,
                error_message=oc.message,
                maybe_sent=maybe_sent,
            )
            spent = self._budget.failed()
            if spent is not None:
                self._halt(f"the API keeps failing: {spent} (last: {oc.code} {oc.message})")
                return out(
                    Status.NOT_SENT, JobState.PENDING, error_code=oc.code, error_message=oc.message
                )
            with self._emit_lock:
                self._result.retries_by_cause[oc.code] += 1
                if self.on_retry is not None:
                    self.on_retry(oc.code)
            log.debug("retry %s after %s: %s", ref, oc.code, oc.message)
            return None

        got = self._retrying(attempt, retrying)
        if not isinstance(got, _Ended):
            return got
        if got.stopped or got.last is None:
            return self._not_sent(prep)
        oc, n = got.last, got.attempts
        why = f"{oc.message} (gave up after {n} attempts in this run; rerun to try again)"
        return settle(Status.FAILED, JobState.FAILED, oc.code, why)

    def _reconcile(self) -> None:
        """Fill in the job_id of every created/existing job that lacks one (FS_0001 does not
        carry it; a withheld id is no id), this run's and earlier runs', from the listing of
        its batch; the project's default batch is found in the project details. Whatever
        stays unresolved is counted by reason and the reason kept in the ledger."""
        wanted = self.ledger.missing_job_ids()
        if not wanted:
            return
        found: dict[str, str] = {}
        if None in wanted:
            refs = wanted.pop(None)
            try:
                default = self.default_batch()
            except SubmitError as exc:
                self._unresolved(refs, "project details unreadable", str(exc))
            else:
                if default is None:
                    self._unresolved(
                        refs,
                        "no default batch",
                        "the project details name no default batch with a usable id",
                    )
                else:
                    wanted.setdefault(default, []).extend(refs)
        for batch_id, refs in wanted.items():
            if batch_id is None:
                continue
            want = set(refs)
            withheld: set[str] = set()
            try:
                for j in self.batch_jobs(batch_id):
                    ref, jid = j.get("reference_id"), j.get("id")
                    if not isinstance(ref, str) or ref not in want:
                        continue
                    if is_id(jid):
                        found[ref] = str(jid)
                        self.ledger.set_job_id(ref, str(jid))
                        want.discard(ref)
                        withheld.discard(ref)
                        if not want:
                            break
                    else:
                        withheld.add(ref)
            except SubmitError as exc:
                log.warning("could not list batch %s to find job ids: %s", batch_id, exc)
                self._unresolved(sorted(want), "batch listing failed", f"{batch_id}: {exc}")
                continue
            self._unresolved(
                sorted(withheld), "listed id unusable", "the listing's job id held the API key"
            )
            self._unresolved(
                sorted(want - withheld),
                "not in the batch listing",
                f"not in the listing of batch {batch_id}",
            )
        if found:
            self._result.outcomes = [
                replace(o, job_id=found[o.reference_id])
                if o.reference_id in found and o.status in (Status.EXISTS, Status.CREATED)
                else o
                for o in self._result.outcomes
            ]

    def _unresolved(self, refs: Iterable[str], reason: str, detail: str) -> None:
        for ref in refs:
            self._result.missing_job_id[reason] += 1
            self.ledger.note_missing_job_id(ref, api.JOB_ID_UNKNOWN, f"no job_id: {detail}")

    def default_batch(self) -> str | None:
        """The id of the project's default batch (project details, ``is_default``)."""
        data = self._get_data(api.details_path(self.project_id))
        for b in data.get("batches") or []:
            if isinstance(b, dict) and b.get("is_default") is True and is_id(b.get("id")):
                return str(b["id"])
        return None

    def batches(self) -> list[dict[str, Any]]:
        """The project's batches (id, name, is_default, counts) from the project details;
        entries without a usable id are left out."""
        data = self._get_data(api.details_path(self.project_id))
        return [b for b in data.get("batches") or [] if isinstance(b, dict) and is_id(b.get("id"))]


def _guarded(payloads: Iterable[Any], result: SubmitResult) -> Iterator[tuple[int, Any]]:
    """``enumerate(payloads)`` that ends, instead of raising, when the source turns out bad
    (an InputError): the run stops there with the ledger and the outcomes so far."""
    it = iter(payloads)
    index = 0
    while True:
        try:
            payload = next(it)
        except StopIteration:
            return
        except InputError as exc:
            result.input_error = exc
            return
        yield index, payload
        index += 1


def _batch_id_of(answer: Answer) -> str | None:
    if answer.status != 200 or not isinstance(answer.data, dict):
        return None
    obj = answer.data
    data = obj.get("data")
    bid = data.get("batch_id") if isinstance(data, dict) else None
    return bid if is_id(bid) and obj.get("success") is True else None


def _unusable_batch_id(answer: Answer) -> bool:
    """A success answer whose batch_id is there but not usable (withheld, not text)."""
    obj = answer.data
    if answer.status != 200 or not isinstance(obj, dict) or obj.get("success") is not True:
        return False
    data = obj.get("data")
    return isinstance(data, dict) and data.get("batch_id") is not None


def check_api_key(key: SecretStr) -> None:
    """Refuse a key that cannot go in a header (without ever showing it)."""
    value = key.get_secret_value()
    if not value:
        raise InputError(None, None, "the API key is empty")
    if not all(33 <= ord(c) < 127 for c in value):
        raise InputError(
            None,
            None,
            "the API key holds spaces, line breaks or non-ASCII characters; check its source",
        )


def load_api_key(api_key_file: str | PathLike[str] | None = None) -> SecretStr:
    """The API key from ``api_key_file`` (first line, stripped) or ``$PLAYMENT_API_KEY``.

    Never from the command line: arguments are visible to every user through ``ps``.
    """
    if api_key_file is not None:
        p = Path(api_key_file)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                p, None, f"cannot read the API key file: {type(exc).__name__}"
            ) from None
        lines = text.strip().splitlines()
        key = SecretStr(lines[0].strip() if lines else "")
        if not key.get_secret_value():
            raise InputError(p, None, "the API key file is empty")
    else:
        value = os.environ.get(api.API_KEY_ENV, "").strip()
        if not value:
            raise InputError(
                None,
                None,
                f"no API key: set {api.API_KEY_ENV} or pass {param('api_key_file', cli='FILE')}",
            )
        key = SecretStr(value)
    check_api_key(key)
    return key
