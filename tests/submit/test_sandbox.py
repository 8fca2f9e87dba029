"""The sandbox speaks the API: endpoints, envelope, codes and faults, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from prelabel.submit.sandbox import Sandbox

from .conftest import KEY, small_job


def _client(sb: Sandbox, key: str = KEY) -> httpx.Client:
    return httpx.Client(base_url=sb.url, headers={"x-api-key": key}, timeout=5)


def test_create_get_and_duplicate(sandbox: Sandbox) -> None:
    with _client(sandbox) as c:
        r = c.post("/v1/projects/p/jobs", json=small_job("a"))
        assert r.status_code == 200
        data = r.json()["data"]
        assert r.json()["success"] is True
        assert (data["reference_id"], data["work_flow_id"]) == ("a", "wf-1")
        got = c.get(f"/v1/projects/p/jobs/{data['job_id']}").json()["data"]
        assert got["reference_id"] == "a"
        assert got["job_id"] == data["job_id"]
        dup = c.post("/v1/projects/p/jobs", json=small_job("a"))
        assert dup.status_code == 400
        assert dup.json() == {
            "error": {"code": "FS_0001", "message": "Duplicate Reference Id"},
            "success": False,
        }
        # another project has its own reference_ids
        assert c.post("/v1/projects/q/jobs", json=small_job("a")).status_code == 200
    assert sandbox.job_count() == 2
    assert sandbox.job_count("p") == 1


def test_wrong_key_is_401(sandbox: Sandbox) -> None:
    with _client(sandbox, "wrong") as c:
        r = c.post("/v1/projects/p/jobs", json=small_job("a"))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth-failure"
    assert sandbox.job_count() == 0


@pytest.mark.parametrize(
    ("mutate", "code", "where"),
    [
        (lambda j: j.pop("reference_id"), "FS_0002", ""),
        (lambda j: j.pop("data"), "FS_0004", ""),
        (lambda j: j.pop("work_flow_id"), "FS_0005", ""),
        (
            lambda j: j["data"]["video_data"]["frames"][0].update(src="nope"),
            "FS_0003",
            "$.data.video_data.frames[0].src",
        ),
        (
            lambda j: j["data"]["video_data"]["frames"][0].update(
                src="https://cdn.x.invalid/1.jpg"
            ),
            "FS_0007",
            "https://cdn.x.invalid/1.jpg",
        ),
        (lambda j: j.update(batch_id="no-such-batch"), "GE_0001", "no-such-batch"),
    ],
)
def test_invalid_jobs(sandbox: Sandbox, mutate, code: str, where: str) -> None:  # type: ignore[no-untyped-def]
    job = small_job("a")
    mutate(job)
    with _client(sandbox) as c:
        r = c.post("/v1/projects/p/jobs", json=job)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == code
    assert where in err["message"]
    assert sandbox.job_count() == 0


def test_bad_json_is_fs_0003(sandbox: Sandbox) -> None:
    with _client(sandbox) as c:
        r = c.post(
            "/v1/projects/p/jobs", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "FS_0003"


def test_batches_listing_and_details() -> None:
    with Sandbox(KEY, page_size=3) as sb, _client(sb) as c:
        bid = c.post("/v1/projects/p/batch", json={"name": "b", "description": "d"}).json()
        bid = bid["data"]["batch_id"]
        again = c.post("/v1/projects/p/batch", json={"name": "b", "description": "d"})
        assert again.json()["error"]["code"] == "BATCH_CREATION"
        for i in range(7):
            assert c.post("/v1/projects/p/jobs", json=small_job(f"j{i}", batch_id=bid)).is_success
        c.post("/v1/projects/p/jobs", json=small_job("default-batch"))
        refs, token, pages = [], "", 0
        while True:
            data = c.get(f"/v1/projects/p/batch/{bid}", params={"page_token": token}).json()["data"]
            refs += [j["reference_id"] for j in data["jobs"]]
            pages += 1
            token = data["next_page_token"]
            if not token:
                break
        # 7 jobs, 3 per page: 3 + 3 + 1
        assert pages == 3
        assert refs == [f"j{i}" for i in range(7)]
        bad = c.get(f"/v1/projects/p/batch/{bid}", params={"page_token": "x"})
        assert bad.json()["error"]["code"] == "invalid_request_error"
        details = c.get("/v1/projects/p/details").json()["data"]["batches"]
        counts = {b["name"]: (b["total_jobs"], b["is_default"]) for b in details}
        assert counts == {"b": (7, False), "Default": (1, True)}


def test_unknown_endpoint_is_404(sandbox: Sandbox) -> None:
    with _client(sandbox) as c:
        assert c.get("/v2/nothing").status_code == 404


def test_faults_503_429_with_retry_after() -> None:
    with Sandbox(KEY, fail_rate=1.0, retry_after=2, seed=1) as sb, _client(sb) as c:
        statuses = set()
        for i in range(20):
            r = c.post("/v1/projects/p/jobs", json=small_job(f"a{i}"))
            statuses.add(r.status_code)
            assert r.headers["retry-after"] == "2"
        assert statuses == {429, 503}
        assert sb.job_count() == 0  # a refused request did nothing


def test_reset_drops_the_answer_but_creates_the_job() -> None:
    with Sandbox(KEY, reset_rate=1.0) as sb, _client(sb) as c:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            c.post("/v1/projects/p/jobs", json=small_job("a"))
        assert sb.job_count() == 1
        assert sb.stats["resets"] == 1


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(KEY, host="0.0.0.0")
