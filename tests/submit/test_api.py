"""The classification of every outcome of a request (prelabel.submit.api)."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from prelabel.submit import api
from prelabel.submit.api import Verdict, classify_exception, classify_response


def _resp(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def _err(code: str, message: str = "m") -> dict[str, object]:
    return {"error": {"code": code, "message": message}, "success": False}


@pytest.mark.parametrize(
    ("status", "body", "verdict", "maybe_sent"),
    [
        (200, {"data": {"job_id": "J", "reference_id": "r"}, "success": True}, "created", False),
        (200, b"<html>ok</html>", "retry", True),  # success without a job_id: probably created
        (400, _err("FS_0001", "Duplicate Reference Id"), "duplicate", False),
        (500, _err("FS_0001"), "duplicate", False),  # the code decides, not the status
        (401, b"", "fatal", False),
        (403, _err("unauthorized"), "fatal", False),
        (400, _err("core.webutil.token_auth"), "fatal", False),
        (400, _err("FS_0000"), "retry", True),
        (400, _err("FS_0008"), "retry", True),
        (400, _err("api_error"), "retry", True),
        (408, b"", "retry", False),
        (425, b"", "retry", False),
        (429, b"", "retry", False),
        (500, b"", "retry", True),
        (502, b"<html><body>Bad gateway</body></html>", "retry", True),
        (503, _err("api_error"), "retry", True),
        (504, b"", "retry", True),
        (400, _err("FS_0003", "Job data provided is not valid"), "rejected", False),
        (400, _err("FS_0005"), "rejected", False),
        (400, _err("FS_0007"), "rejected", False),
        (413, b"too big", "rejected", False),
        (404, b"", "fatal", False),
        (302, b"", "fatal", False),
        (307, b"", "fatal", False),
    ],
)
def test_classify_response(status: int, body: object, verdict: str, maybe_sent: bool) -> None:
    oc = classify_response(_resp(status, body, {"location": "https://elsewhere.example"}))
    assert oc.verdict == Verdict(verdict)
    assert oc.maybe_sent is maybe_sent


def test_rejected_keeps_code_and_message() -> None:
    oc = classify_response(_resp(400, _err("FS_0003", "$.data: missing")))
    assert (oc.code, oc.message) == ("FS_0003", "$.data: missing")


def test_html_error_body_does_not_crash_and_is_summarised() -> None:
    oc = classify_response(_resp(418, b"<html>\n  <b>teapot</b>\n</html>"))
    assert oc.verdict is Verdict.REJECTED
    assert oc.code == "http_418"
    assert oc.message == "<html> <b>teapot</b> </html>"


@pytest.mark.parametrize(
    ("exc", "maybe_sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.PoolTimeout("pool"), False),
        (httpx.ReadTimeout("read"), True),
        (httpx.WriteTimeout("write"), True),
        (httpx.ReadError("reset"), True),
        (httpx.RemoteProtocolError("Server disconnected"), True),
    ],
)
def test_transport_errors_retry(exc: Exception, maybe_sent: bool) -> None:
    oc = classify_exception(exc)
    assert oc.verdict is Verdict.RETRY
    assert oc.maybe_sent is maybe_sent


def test_local_protocol_error_stops() -> None:
    assert classify_exception(httpx.LocalProtocolError("bad header")).verdict is Verdict.FATAL


def test_retry_after_forms() -> None:
    assert api.parse_retry_after("7") == 7.0
    assert api.parse_retry_after(" 0.25 ") == 0.25
    assert api.parse_retry_after("-3") == 0.0
    assert api.parse_retry_after(None) is None
    assert api.parse_retry_after("soon") is None
    assert api.parse_retry_after("nan") is None
    # an HTTP-date 30 s after "now" (1,000,000,000 s after the epoch)
    date = email.utils.formatdate(1_000_000_030, usegmt=True)
    assert api.parse_retry_after(date, now=1_000_000_000) == pytest.approx(30.0)
    oc = classify_response(_resp(429, b"", {"retry-after": "3"}))
    assert oc.retry_after == 3.0


@pytest.mark.parametrize(
    "url",
    [
        "https://api.playment.io",
        "https://api.playment.io/",
        "http://127.0.0.1:8080",
        "http://localhost:1",
        "http://[::1]:9",
        "http://127.5.5.5",
    ],
)
def test_base_url_accepted(url: str) -> None:
    assert not api.check_base_url(url).endswith("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.playment.io",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "ftp://x",
        "https://user:pw@api.playment.io",
        "https://api.playment.io/?k=1",
        "not a url",
    ],
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(ValueError, match="refusing plain http://|the base URL must"):
        api.check_base_url(url)
