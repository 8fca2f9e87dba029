"""The sandbox speaks the API: endpoints, envelope, codes and faults, over real HTTP."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from prelabel.submit.annotator import AnnotatorRates, annotate
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


# -- completing jobs: the annotator and the result endpoints -------------------------------


def _tracked_job(ref: str, n: int) -> dict[str, Any]:
    """``n`` trackers over 4 frames: rectangles and polygons, three labels."""
    frames = [{"frame_id": f"f{i}", "src": f"https://images.example.com/{i}.jpg"} for i in range(4)]
    trackers = []
    for t in range(n):
        label = ("car", "person", "bike")[t % 3]
        x, y = 0.1 + 0.7 * (t % 10) / 10, 0.1 + 0.7 * (t // 10 % 10) / 10
        shapes = {}
        for i in range(t % 3 + 1):
            oid = f"{ref}-o{t}-{i}"
            if t % 2:
                pts = {
                    "p1": {"x": x, "y": y},
                    "p2": {"x": x + 0.05, "y": y},
                    "p3": {"x": x, "y": y + 0.05},
                }
                edges = {"e1": ["p1", "p2"], "e2": ["p2", "p3"], "e3": ["p3", "p1"]}
                shapes[f"f{i}"] = {"_id": oid, "label": label, "points": pts, "edges": edges}
            else:
                box = [
                    {"x": x, "y": y},
                    {"x": x + 0.05, "y": y},
                    {"x": x + 0.05, "y": y + 0.05},
                    {"x": x, "y": y + 0.05},
                ]
                shapes[f"f{i}"] = {"_id": oid, "label": label, "coordinates": box}
        kind = "polygon" if t % 2 else "rectangle"
        trackers.append({"_id": f"{ref}-t{t}", "type": kind, "label": label, "frames": shapes})
    return {
        "reference_id": ref,
        "work_flow_id": "wf-1",
        "data": {
            "video_data": {"frames": frames},
            "maker_response": {"video2d": {"data": {"annotations": trackers}}},
        },
    }


def _points(shape: dict[str, Any]) -> list[tuple[float, float]]:
    pts = shape.get("coordinates") or list(shape["points"].values())
    return [(p["x"], p["y"]) for p in pts]


def test_the_annotator_is_deterministic_for_a_seed_and_a_reference_id() -> None:
    job = _tracked_job("cam-1", 40)
    before = orjson.dumps(job)
    a, b = annotate(job, seed=1), annotate(copy.deepcopy(job), seed=1)
    assert orjson.dumps(a) == orjson.dumps(b)
    assert orjson.dumps(job) == before  # the job itself is not changed
    assert orjson.dumps(annotate(job, seed=2)) != orjson.dumps(a)
    # another reference_id, the same shapes: other draws
    other = _tracked_job("cam-2", 40)
    assert [t["label"] for t in annotate(other, 1)["data"]["annotation_data"]["annotations"]] != [
        t["label"] for t in a["data"]["annotation_data"]["annotations"]
    ]


def test_the_annotator_keeps_ids_and_changes_shapes_at_its_rates() -> None:
    n = 400
    job = _tracked_job("cam-1", n)
    given = {t["_id"]: t for t in job["data"]["maker_response"]["video2d"]["data"]["annotations"]}
    result = annotate(job, seed=11)
    got = result["data"]["annotation_data"]["annotations"]
    assert result["data"]["video_data"]["frames"] == job["data"]["video_data"]["frames"]
    kept = [t for t in got if t["_id"] in given]
    added = [t for t in got if t["_id"] not in given]
    relabelled = moved = unchanged = 0
    px = AnnotatorRates().nudge_px
    for t in kept:
        old = given[t["_id"]]
        assert t["type"] == old["type"]
        # every kept shape keeps its _id and frame, and the tracker's label
        assert set(t["frames"]) == set(old["frames"])
        for fid, shape in t["frames"].items():
            assert shape["_id"] == old["frames"][fid]["_id"]
            assert shape["label"] == t["label"]
            new_pts, old_pts = _points(shape), _points(old["frames"][fid])
            dx = {round(n[0] - o[0], 12) for n, o in zip(new_pts, old_pts, strict=True)}
            dy = {round(n[1] - o[1], 12) for n, o in zip(new_pts, old_pts, strict=True)}
            assert len(dx) == len(dy) == 1  # one offset for the whole shape
            (ddx,), (ddy,) = dx, dy
            assert abs(ddx) * 1920 <= px + 1e-6
            assert abs(ddy) * 1080 <= px + 1e-6
            if ddx or ddy:
                moved += 1
            else:
                unchanged += 1
        relabelled += t["label"] != old["label"]
    deleted = n - len(kept)
    # 400 trackers at 10 %: 40 expected, sd sqrt(400 * 0.1 * 0.9) = 6; 4 sd either side
    assert 16 <= deleted <= 64
    assert 16 * 0.9 <= relabelled <= 64
    assert 16 <= len(added) <= 64
    # shapes: trackers hold 1, 2, 3 shapes in turn (800 in all); 75 % of the kept nudged
    assert 0.65 <= moved / (moved + unchanged) <= 0.85
    for t in added:
        (shape,) = t["frames"].values()
        assert t["type"] == "rectangle"
        assert t["label"] in {"car", "person", "bike"}
        assert all(0 <= v <= 1 for p in _points(shape) for v in p)
    assert len({t["_id"] for t in got}) == len(got)


def test_the_annotator_adds_a_shape_to_a_job_without_pre_labels() -> None:
    got = annotate(small_job("empty"), seed=0)["data"]["annotation_data"]["annotations"]
    assert [(t["type"], list(t["frames"])) for t in got] == [("rectangle", ["f1"])]


def test_jobs_complete_after_the_delay_of_the_sandbox_clock() -> None:
    now = [100.0]
    with Sandbox(KEY, annotate=30, clock=lambda: now[0]) as sb, _client(sb) as c:
        job_id = c.post("/v1/projects/p/jobs", json=_tracked_job("cam", 5)).json()["data"]["job_id"]
        now[0] += 29.5
        data = c.get(f"/v1/projects/p/jobs/{job_id}").json()["data"]
        assert (data["status"], data["result"]) == ("pending", None)
        refused = c.get(
            "/v1/attachments", params={"url": f"{sb.url}/storage/results/{job_id}.json"}
        )
        assert refused.status_code == 404  # no result before completion
        now[0] += 0.5
        data = c.get(f"/v1/projects/p/jobs/{job_id}").json()["data"]
        assert data["status"] == "completed"
        # the private URL itself is refused; the attachments API redirects to a signed one
        assert httpx.get(data["result"]).status_code == 403
        r = c.get("/v1/attachments", params={"url": data["result"]})
        assert r.status_code == 302
        signed = r.headers["location"]
        assert httpx.get(signed).json() == sb.result_of(job_id)
        assert httpx.get(signed, headers={"x-api-key": "anything"}).status_code == 400
        assert httpx.get(signed.replace("signature=", "signature=0")).status_code == 403
        now[0] += 301  # past the signed URL's lifetime
        assert httpx.get(signed).status_code == 403
        assert (
            c.get(
                "/v1/attachments", params={"url": data["result"]}, headers={"x-api-key": "no"}
            ).status_code
            == 401
        )
    assert sb.stats["results_served"] == 1
    assert sb.stats["key_at_storage"] == 1


def test_without_annotate_jobs_stay_pending() -> None:
    with Sandbox(KEY, clock=lambda: 1e9) as sb, _client(sb) as c:
        job_id = c.post("/v1/projects/p/jobs", json=small_job("a")).json()["data"]["job_id"]
        assert c.get(f"/v1/projects/p/jobs/{job_id}").json()["data"]["status"] == "pending"


def test_the_sandbox_cli_takes_annotate() -> None:
    from click.testing import CliRunner

    from prelabel.cli import main

    run = CliRunner().invoke(main, ["sandbox", "--help"])
    assert "--annotate SECONDS" in run.output
    bad = CliRunner().invoke(main, ["sandbox", "--api-key", "k", "--annotate", "-1"])
    assert bad.exit_code == 2


def test_a_db_of_an_earlier_sandbox_gains_the_creation_clock(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "sb.sqlite"
    old = sqlite3.connect(db)
    old.execute(
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, "
        "project_id TEXT NOT NULL, reference_id TEXT NOT NULL, batch_id TEXT NOT NULL, "
        "work_flow_id TEXT NOT NULL, body BLOB NOT NULL, created_at TEXT NOT NULL)"
    )
    old.commit()
    old.close()
    with Sandbox(KEY, db=db, annotate=0, clock=lambda: 5.0) as sb, _client(sb) as c:
        job_id = c.post("/v1/projects/p/jobs", json=small_job("a")).json()["data"]["job_id"]
        assert c.get(f"/v1/projects/p/jobs/{job_id}").json()["data"]["status"] == "completed"
