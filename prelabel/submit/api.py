"""Facts about the platform API in one place: endpoints, error codes and the classification of
every outcome of a request (what to record, whether to retry, whether to stop the run).

The table (also in ``docs/submit.md``):

==========================================  ==========  ==========  ===========================
outcome                                     verdict     maybe_sent  why
==========================================  ==========  ==========  ===========================
200 ``success: true`` with ``job_id``       CREATED     -           the job exists
200 with a ``job_id`` that held the key     CREATED     -           created; the id withheld
200 unreadable / no ``job_id``              RETRY       yes         probably created; a resend
                                                                    answers FS_0001
200 ``success: false`` without a code       RETRY       yes         unknown: a resend settles it
answer over the size cap                    RETRY       yes         cut off, never read whole
``FS_0001`` (any status)                    DUPLICATE   -           exists: ours when an earlier
                                                                    attempt may have reached it
auth codes, 401, 403                        FATAL       no          every job would fail
3xx                                         FATAL       no          never followed: the key
                                                                    would go along
404, 405                                    FATAL       no          wrong --base-url/--project-id
``FS_0000``, ``FS_0008``, ``api_error``     RETRY       yes         "try again later"
408, 425, 429                               RETRY       no          refused before processing
5xx                                         RETRY       yes         may fail after the commit
other 4xx (FS_0003, FS_0005, FS_0007, ...)  REJECTED    no          final for this job
connect error / connect or pool timeout     RETRY       no          nothing was sent
read/write error or timeout, reset          RETRY       yes         the server may have acted
other transport errors                      FATAL       no          a client-side problem
==========================================  ==========  ==========  ===========================
"""

from __future__ import annotations

import email.utils
import ipaddress
import math
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote

import httpx

from prelabel.submit.secrets import WITHHELD, Scrubber, is_id
from prelabel.submit.transport import Answer, AnswerTooLarge, answer_of

DEFAULT_BASE_URL = "https://api.playment.io"
API_KEY_HEADER = "x-api-key"
API_KEY_ENV = "PLAYMENT_API_KEY"

# error codes of the API (../shared/spec/api-notes.md section 5)
DUPLICATE_REFERENCE = "FS_0001"
MISSING_REFERENCE = "FS_0002"
INVALID_DATA = "FS_0003"
EMPTY_DATA = "FS_0004"
MISSING_WORKFLOW = "FS_0005"
ATTACHMENT_UNREACHABLE = "FS_0007"
INVALID_PARAMETER = "GE_0001"
BATCH_EXISTS = "BATCH_CREATION"
INVALID_PAGE_TOKEN = "invalid_request_error"
AUTH_FAILURE = "auth-failure"
TRY_AGAIN_CODES = frozenset({"FS_0000", "FS_0008", "api_error"})
AUTH_CODES = frozenset(
    {
        AUTH_FAILURE,
        "unauthorized",
        "unauthorized_request",
        "core.webutil.auther",
        "core.webutil.token_auth",
    }
)

# codes prelabel itself records (never sent by the server)
LOCAL_INVALID = "invalid_payload"
LOCAL_NO_WORKFLOW = "missing_work_flow_id"
LOCAL_PAYLOAD_CHANGED = "payload_changed"
LOCAL_FOREIGN_DUPLICATE = "FS_0001_foreign"
LOCAL_TOO_LARGE = "answer_too_large"
JOB_ID_WITHHELD = "job_id_withheld"
JOB_ID_UNKNOWN = "job_id_unknown"

STATUS_NOT_PROCESSED = frozenset({408, 425, 429})


class Verdict(str, Enum):
    """What one request's outcome means for the job and for the run."""

    CREATED = "created"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    REJECTED = "rejected"
    FATAL = "fatal"


@dataclass(frozen=True)
class Outcome:
    """The classification of one attempt.

    ``maybe_sent`` is True when the server may have acted on the request although we did not
    learn the answer; a later ``FS_0001`` for this reference_id is then our own job.
    """

    verdict: Verdict
    code: str
    message: str
    maybe_sent: bool = False
    retry_after: float | None = None
    job_id: str | None = None
    status: int | None = None
    withheld: bool = False  # some value of the answer held the API key


def segment(value: str) -> str:
    """One path segment of an id: every reserved character percent-encoded, and ``.`` /
    ``..`` (which a URL resolves away: ``jobs/..`` is the project) as ``%2E``."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def jobs_path(project_id: str) -> str:
    return f"/v1/projects/{segment(project_id)}/jobs"


def batch_path(project_id: str) -> str:
    return f"/v1/projects/{segment(project_id)}/batch"


def batch_jobs_path(project_id: str, batch_id: str) -> str:
    return f"{batch_path(project_id)}/{segment(batch_id)}"


def details_path(project_id: str) -> str:
    return f"/v1/projects/{segment(project_id)}/details"


def job_path(project_id: str, job_id: str) -> str:
    """Get job: ``status`` and the private ``result`` URL (api-notes 1.3)."""
    return f"{jobs_path(project_id)}/{segment(job_id)}"


# the attachment proxy: ``GET ATTACHMENTS_PATH?url=RESULT_URL`` with the key redirects to a
# signed URL of the attachment (api-notes 1.4), which is fetched without the key
ATTACHMENTS_PATH = "/v1/attachments"
COMPLETED = "completed"  # the one documented job status; compared case-insensitively


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; refuses what would expose the key.

    https:// anywhere; http:// only on loopback (the sandbox); no credentials, query or
    fragment in the URL.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a URL: {url!r} ({exc})") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise ValueError(f"the base URL must be https://HOST[/PATH], got {url!r}")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise ValueError(
            f"refusing plain http:// to {parsed.host}: the API key would travel unencrypted "
            "(http:// is allowed for loopback hosts only)"
        )
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise ValueError("the base URL must not hold credentials, a query or a fragment")
    return str(parsed).rstrip("/")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date); None when
    absent or unreadable. Negative values become 0."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def error_of(answer: Answer) -> tuple[str | None, str]:
    """(code, message) from an error envelope; tolerant of HTML pages and odd shapes (the
    answer is already scrubbed: a code that held the key is ``WITHHELD``)."""
    obj = answer.data
    if obj is None:
        return None, answer.text
    if isinstance(obj, dict):
        err = obj.get("error")
        if isinstance(err, dict):
            code = err.get("code")
            msg = err.get("message")
            return (str(code) if code is not None else None, "" if msg is None else str(msg))
        if isinstance(err, str):
            return None, err
    return None, ""


def classify_response(response: httpx.Response, scrub: Scrubber | None = None) -> Outcome:
    """Classify a fully read ``httpx.Response`` (tests and callers without streaming)."""
    scrub = scrub or Scrubber("")
    return classify_answer(
        answer_of(response.status_code, response.headers, response.content, scrub)
    )


def data_of(answer: Answer) -> dict[str, Any] | None:
    """The ``data`` object of a successful read (``200``, ``{"success": true?, "data": {...}}``),
    or None when the answer is not one: the one rule for every GET of the API."""
    obj = answer.data
    if (
        answer.status == 200
        and isinstance(obj, dict)
        and obj.get("success") is not False
        and isinstance(obj.get("data"), dict)
    ):
        data: dict[str, Any] = obj["data"]
        return data
    return None


def classify_answer(answer: Answer) -> Outcome:
    """Classify an answer to a job-creation request (see the module table)."""
    status = answer.status
    withheld = answer.withheld > 0
    retry_after = parse_retry_after(answer.headers.get("retry-after"))
    if 200 <= status < 300:
        obj = answer.data
        data = obj.get("data") if isinstance(obj, dict) else None
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if isinstance(obj, dict) and obj.get("success") is True and job_id is not None:
            if is_id(job_id):
                return Outcome(Verdict.CREATED, "", "", job_id=job_id, status=status)
            # created, but the id is unusable: record the job without one and say why
            why = (
                "the server's job_id held the API key; withheld"
                if job_id == WITHHELD
                else "the server's job_id is not a usable id; not recorded"
            )
            return Outcome(Verdict.CREATED, JOB_ID_WITHHELD, why, status=status, withheld=withheld)
        if not (isinstance(obj, dict) and obj.get("success") is False):
            return Outcome(
                Verdict.RETRY,
                f"http_{status}",
                "success answer without a job_id",
                maybe_sent=True,
                status=status,
                withheld=withheld,
            )
    if 300 <= status < 400:
        where = answer.headers.get("location", "?")
        return Outcome(
            Verdict.FATAL,
            f"http_{status}",
            f"the API answered a redirect to {where}; redirects are not followed (the key "
            "would go along): check the API base URL",
            status=status,
            withheld=withheld,
        )
    code, message = error_of(answer)
    if code == DUPLICATE_REFERENCE:
        return Outcome(Verdict.DUPLICATE, code, message or "Duplicate Reference Id", status=status)
    if status in (401, 403) or code in AUTH_CODES:
        return Outcome(
            Verdict.FATAL,
            code or f"http_{status}",
            message or "unauthorized: the API key was refused",
            status=status,
            withheld=withheld,
        )
    if code in TRY_AGAIN_CODES:
        return Outcome(
            Verdict.RETRY, code, message, maybe_sent=True, retry_after=retry_after, status=status
        )
    if status in STATUS_NOT_PROCESSED:
        return Outcome(
            Verdict.RETRY,
            code or f"http_{status}",
            message,
            maybe_sent=False,
            retry_after=retry_after,
            status=status,
            withheld=withheld,
        )
    if status >= 500 or (200 <= status < 300 and code is None):
        # 5xx, or 200 with success: false and no code we know: the API may have acted
        return Outcome(
            Verdict.RETRY,
            code or f"http_{status}",
            message or ("success: false without an error code" if status < 300 else ""),
            maybe_sent=True,
            retry_after=retry_after,
            status=status,
            withheld=withheld,
        )
    if status in (404, 405):
        return Outcome(
            Verdict.FATAL,
            code or f"http_{status}",
            f"{message or 'not found'} (check the API base URL and the project id)",
            status=status,
            withheld=withheld,
        )
    return Outcome(
        Verdict.REJECTED, code or f"http_{status}", message, status=status, withheld=withheld
    )


def classify_exception(exc: Exception) -> Outcome:
    """Classify a transport error (the request got no answer)."""
    name = type(exc).__name__
    if isinstance(exc, AnswerTooLarge):
        return Outcome(Verdict.RETRY, LOCAL_TOO_LARGE, str(exc), maybe_sent=True)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Outcome(Verdict.RETRY, "connect_error", f"{name}: {exc}", maybe_sent=False)
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return Outcome(Verdict.RETRY, "no_answer", f"{name}: {exc}", maybe_sent=True)
    return Outcome(Verdict.FATAL, "client_error", f"{name}: {exc}")
