"""Shared pieces of the submitter tests: a canary key, small valid jobs, a sandbox."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prelabel.submit.sandbox import Sandbox

# a canary: any test may scan outputs for it, it must never appear
KEY = "pk_CANARY_7f3a9c1e5b2d4f60"


def small_job(ref: str, **extra: Any) -> dict[str, Any]:
    """The smallest valid job: one frame, no annotations."""
    job: dict[str, Any] = {
        "reference_id": ref,
        "work_flow_id": "wf-1",
        "data": {
            "video_data": {
                "frames": [{"frame_id": "f1", "src": f"https://images.example.com/{ref}/1.jpg"}]
            }
        },
    }
    job.update(extra)
    return job


def jobs(n: int, prefix: str = "job") -> list[dict[str, Any]]:
    return [small_job(f"{prefix}-{i:05d}") for i in range(n)]


def ledger_bytes(path: str | os.PathLike[str]) -> bytes:
    """A ledger file plus its WAL and journal, as they are on disk (to scan for the key)."""
    out = b""
    for suffix in ("", "-wal", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            out += Path(os.fspath(path) + suffix).read_bytes()
    return out


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(KEY, retry_after=0) as sb:
        yield sb
