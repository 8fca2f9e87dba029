"""Deciding what to send: a payload filled in, serialised canonically and checked
(:func:`prepare_payload`), then weighed against what the ledger knows (:func:`plan_against`).
Shared by the Submitter and ``prelabel submit --dry-run``, which must agree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from prelabel.submit import api
from prelabel.submit.ledger import LedgerRow
from prelabel.submit.outcomes import JobOutcome, Status


@dataclass(frozen=True)
class Prepared:
    """A payload ready to send: the exact bytes, their sha256 and what the ledger needs."""

    index: int
    reference_id: str
    body: bytes
    sha256: str
    batch_id: str | None
    problem: tuple[str, str] | None = None  # (code, message) when it must not be sent
    maybe_sent: bool = False  # the ledger says an earlier request may have reached the API


def prepare_payload(
    index: int,
    payload: Any,
    *,
    workflow_id: str | None = None,
    batch_id: str | None = None,
    validate: bool = True,
) -> Prepared | JobOutcome:
    """Fill ``work_flow_id``/``batch_id`` where missing, serialise canonically (sorted keys,
    so the sha256 does not depend on key order) and check the payload.

    A payload with no usable reference_id cannot be keyed in the ledger: it becomes a failed
    outcome at once.
    """
    if not isinstance(payload, dict):
        return _invalid(index, None, "a job must be a JSON object")
    ref = payload.get("reference_id")
    if not isinstance(ref, str) or not ref:
        return _invalid(index, None, "$.reference_id: a non-empty string is required")
    job = dict(payload)
    if workflow_id and not job.get("work_flow_id"):
        job["work_flow_id"] = workflow_id
    if batch_id and not job.get("batch_id"):
        job["batch_id"] = batch_id
    try:
        body = orjson.dumps(job, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except TypeError as exc:
        return _invalid(index, ref, f"not serialisable as JSON: {exc}")
    sha = hashlib.sha256(body).hexdigest()
    bid = job.get("batch_id") if isinstance(job.get("batch_id"), str) else None
    problem: tuple[str, str] | None = None
    if not job.get("work_flow_id"):
        problem = (
            api.LOCAL_NO_WORKFLOW,
            "$.work_flow_id is missing (no workflow id was given for the job); not sent",
        )
    elif validate:
        problem = schema_problem(body)
    return Prepared(index, ref, body, sha, bid, problem)


def _invalid(index: int, ref: str | None, message: str) -> JobOutcome:
    """The failed outcome of a payload that cannot be sent as it is."""
    return JobOutcome(
        index=index,
        reference_id=ref,
        status=Status.FAILED,
        error_code=api.LOCAL_INVALID,
        error_message=message,
    )


def schema_problem(body: bytes) -> tuple[str, str] | None:
    """(code, message) for the first schema problem of a serialised payload, or None.

    The garbage collector is paused meanwhile: validating a big job makes many objects and no
    cycles, and the collections it triggers cost more than the check itself."""
    from prelabel.gcpause import paused_gc
    from prelabel.validate import job_problems

    with paused_gc():
        found = job_problems(orjson.loads(body))
    if not found:
        return None
    where, msg = found[0]
    more = f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""
    return (api.LOCAL_INVALID, f"{where}: {msg}{more}")


def plan_against(row: LedgerRow | None, prep: Prepared) -> JobOutcome | None:
    """What the ledger says about sending ``prep``: None = send it, else the outcome."""
    if row is None:
        return None
    if row.done:
        if row.sha256 == prep.sha256:
            return outcome_of(prep, row, Status.DONE, job_id=row.job_id)
        return outcome_of(
            prep,
            row,
            Status.CONFLICT,
            job_id=row.job_id,
            error_code=api.LOCAL_PAYLOAD_CHANGED,
            error_message=f"already {row.state} with another payload (sha256 "
            f"{row.sha256[:12]}, now {prep.sha256[:12]}); not sent again: give the new "
            "payload a new reference_id",
        )
    if row.sha256 != prep.sha256 and row.maybe_sent:
        return outcome_of(
            prep,
            row,
            Status.CONFLICT,
            error_code=api.LOCAL_PAYLOAD_CHANGED,
            error_message=f"an earlier payload (sha256 {row.sha256[:12]}) may have reached "
            "the server and the answer was lost; the changed one is not sent: resend the "
            "original payload to settle it, or use a new reference_id",
        )
    return None


def outcome_of(prep: Prepared, row: LedgerRow | None, status: Status, **kw: Any) -> JobOutcome:
    """The outcome of ``prep`` with the ledger row's state and attempt count (``kw`` sets
    the other fields, or overrides these)."""
    fields: dict[str, Any] = {"state": row.state, "attempts": row.attempts} if row else {}
    return JobOutcome(
        index=prep.index, reference_id=prep.reference_id, status=status, **{**fields, **kw}
    )
