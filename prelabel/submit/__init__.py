"""Submitting job payloads: the HTTP submitter, its ledger and a local sandbox of the API.

``Submitter`` sends jobs exactly once each (ledger + the API's duplicate check on
reference_id), resumably; ``Sandbox`` is a real loopback HTTP server that behaves like the
API, with injectable faults, for rehearsals and tests.
"""

from __future__ import annotations

from prelabel.submit.annotator import AnnotatorRates
from prelabel.submit.api import DEFAULT_BASE_URL, Outcome, Verdict, check_base_url
from prelabel.submit.client import Submitter, load_api_key
from prelabel.submit.config import Limits, Retries, Timeouts
from prelabel.submit.ledger import (
    JobState,
    Ledger,
    LedgerRow,
    ResultRow,
    ResultState,
    default_ledger_path,
)
from prelabel.submit.limits import Backoff, RateLimiter, RetryBudget
from prelabel.submit.outcomes import BatchInfo, JobOutcome, Status, SubmitResult
from prelabel.submit.plan import prepare_payload
from prelabel.submit.results import FetchOutcome, FetchResult, FetchStatus, fetch_results

__all__ = [
    "DEFAULT_BASE_URL",
    "AnnotatorRates",
    "Backoff",
    "BatchInfo",
    "FetchOutcome",
    "FetchResult",
    "FetchStatus",
    "JobOutcome",
    "JobState",
    "Ledger",
    "LedgerRow",
    "Limits",
    "Outcome",
    "RateLimiter",
    "ResultRow",
    "ResultState",
    "RetryBudget",
    "Retries",
    "Sandbox",
    "Status",
    "SubmitResult",
    "Submitter",
    "Timeouts",
    "Verdict",
    "check_base_url",
    "default_ledger_path",
    "fetch_results",
    "load_api_key",
    "prepare_payload",
]


def __getattr__(name: str) -> object:
    if name == "Sandbox":  # the server is only imported when asked for
        from prelabel.submit.sandbox import Sandbox

        return Sandbox
    raise AttributeError(f"module 'prelabel.submit' has no attribute {name!r}")
