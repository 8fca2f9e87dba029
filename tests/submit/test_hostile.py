"""The submitter against a hostile server (tests/submit/hostile.py): the key never comes
back out, no request outlives its deadline, no answer is read past the size cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prelabel.submit import api
from prelabel.submit.client import Submitter
from prelabel.submit.config import Limits, Retries, Timeouts
from prelabel.submit.ledger import Ledger
from prelabel.submit.outcomes import Status
from prelabel.submit.secrets import WITHHELD
from prelabel.submit.transport import DeadlineBackend

from .conftest import KEY, ledger_bytes, small_job
from .hostile import HostileServer


def _submitter(url: str, tmp_path: Path, **kw: Any) -> Submitter:
    opts: dict[str, Any] = {
        "ledger": tmp_path / "l.sqlite",
        "limits": Limits(concurrency=1, rate=0),
        "retries": Retries(backoff=0, max_attempts=2),
        "timeouts": Timeouts(0.5),
    }
    opts.update(kw)
    return Submitter("p", KEY, base_url=url, **opts)


def _no_key(*texts: object) -> None:
    for t in texts:
        data = t if isinstance(t, bytes) else repr(t).encode()
        assert KEY.encode() not in data


def test_job_id_holding_the_key_is_withheld(tmp_path: Path) -> None:
    with HostileServer("echo") as srv, _submitter(srv.url, tmp_path) as s:
        r = s.submit([small_job("a")])
    assert srv.keys_seen == {KEY}  # the key did reach the server (in its header)
    (o,) = r.outcomes
    assert o.status == Status.CREATED
    assert o.job_id is None
    assert o.error_code == api.JOB_ID_WITHHELD
    assert "held the API key" in (o.error_message or "")
    assert r.withheld >= 1
    assert "withheld" in r.summary()
    with Ledger(tmp_path / "l.sqlite", readonly=True) as led:
        row = led.get("a")
    assert row is not None
    assert row.state == "created"
    assert row.job_id is None
    _no_key(r, r.summary(), ledger_bytes(tmp_path / "l.sqlite"))


def test_error_code_and_message_holding_the_key(tmp_path: Path) -> None:
    with HostileServer("echo_error") as srv, _submitter(srv.url, tmp_path) as s:
        r = s.submit([small_job("a")])
    (o,) = r.outcomes
    assert o.status == Status.FAILED
    assert o.error_code == WITHHELD
    _no_key(r, r.summary(), ledger_bytes(tmp_path / "l.sqlite"))


def test_html_page_quoting_the_key(tmp_path: Path) -> None:
    with HostileServer("echo_html") as srv, _submitter(srv.url, tmp_path) as s:
        r = s.submit([small_job("a")])
    (o,) = r.outcomes
    assert o.status == Status.FAILED
    assert o.error_code == "http_502"
    assert "x-api-key: ***" in (o.error_message or "")  # the words kept, the key not
    _no_key(r, ledger_bytes(tmp_path / "l.sqlite"))


def test_redirect_to_a_url_holding_the_key(tmp_path: Path) -> None:
    with HostileServer("redirect") as srv, _submitter(srv.url, tmp_path) as s:
        r = s.submit([small_job("a"), small_job("b")])
    assert r.stop_reason is not None
    assert "redirect" in r.stop_reason
    assert sum(srv.requests.values()) == 1  # not followed, and the run stopped
    _no_key(r, r.stop_reason, ledger_bytes(tmp_path / "l.sqlite"))


def test_trickle_is_cut_at_the_deadline(tmp_path: Path) -> None:
    """A valid answer sent 1 byte per 50 ms takes ~25 s; a 0.5 s deadline cuts each
    attempt: two attempts, both "no answer", and only a few bytes ever sent."""
    with HostileServer("trickle", trickle_gap=0.05) as srv:
        with _submitter(srv.url, tmp_path, timeouts=Timeouts(0.5)) as s:
            r = s.submit([small_job("a")])
        answer_len = len(srv._echo_answer("/v1/projects/p/jobs", KEY, "a")) + 250
        sent = srv.sent_bytes
    (o,) = r.outcomes
    assert o.status == Status.FAILED
    assert o.error_code == "no_answer"
    assert o.attempts == 2
    assert "deadline" in (o.error_message or "")
    assert sent < answer_len / 2  # each attempt stopped long before the answer was complete


def test_silent_server_is_cut_at_the_deadline(tmp_path: Path) -> None:
    with HostileServer("silent") as srv, _submitter(srv.url, tmp_path, timeouts=Timeouts(0.3)) as s:
        r = s.submit([small_job("a")])
    (o,) = r.outcomes
    assert o.error_code == "no_answer"
    assert o.attempts == 2
    assert r.retries_by_cause == {"no_answer": 1}
    assert r.retries == 1


def test_huge_body_is_cut_off_at_the_cap(tmp_path: Path) -> None:
    with HostileServer("huge") as srv:
        with _submitter(
            srv.url,
            tmp_path,
            timeouts=Timeouts(20),
            limits=Limits(concurrency=1, rate=0, answer_bytes=1 << 16),
        ) as s:
            r = s.submit([small_job("a")])
        sent = srv.sent_bytes
    (o,) = r.outcomes
    assert o.status == Status.FAILED
    assert o.error_code == api.LOCAL_TOO_LARGE
    assert o.attempts == 2
    # 64 MiB offered per attempt; the client stopped reading past 64 KiB and hung up
    assert sent < 2 * (16 << 20)


def test_declared_huge_body_is_not_read(tmp_path: Path) -> None:
    with (
        HostileServer("huge_declared") as srv,
        _submitter(srv.url, tmp_path, timeouts=Timeouts(20)) as s,
    ):
        r = s.submit([small_job("a")])
    (o,) = r.outcomes
    assert o.error_code == api.LOCAL_TOO_LARGE
    assert "Content-Length" in (o.error_message or "")


def test_success_false_and_not_json_are_retried_then_fail(tmp_path: Path) -> None:
    for mode in ("false", "not_json"):
        (tmp_path / mode).mkdir()
        with HostileServer(mode) as srv, _submitter(srv.url, tmp_path / mode) as s:
            r = s.submit([small_job("a")])
        (o,) = r.outcomes
        assert o.status == Status.FAILED, mode
        assert o.error_code == "http_200", mode
        assert srv.requests["/v1/projects/p/jobs"] == 2  # retried: the job may exist
        with Ledger(tmp_path / mode / "l.sqlite", readonly=True) as led:
            row = led.get("a")
        assert row is not None
        assert row.maybe_sent


def test_deadline_covers_env_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from the environment is still used (https only), and its connections are
    bounded by the deadline like direct ones."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    with Submitter("p", KEY, base_url="https://api.example.com") as s:
        client = s._client
        pools = [client._transport._pool] + [t._pool for t in client._mounts.values() if t]
    assert len(pools) == 2  # the direct pool and the proxy's
    assert all(isinstance(p._network_backend, DeadlineBackend) for p in pools)
