"""Attachment URLs: a scheme the API fetches, a host, and nothing that cannot be in a URL."""

from __future__ import annotations

import pytest

from prelabel.urls import is_url


@pytest.mark.parametrize(
    "url", ["https://cdn.test/a%20b.jpg", "HTTP://h", "s3://bucket/k/x.png", "gs://b/x?y=1#z"]
)
def test_urls(url: str) -> None:
    assert is_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/local/x.jpg",
        "ftp://h/x.jpg",
        "https://",
        "https:///x.jpg",
        "https://h/a b.jpg",
        "https://h/x.jpg\n",
        "https://h/x\x00.jpg",
        "https://h\x1b/x.jpg",
        "s3://b/x\x7f",
    ],
)
def test_not_urls(url: str) -> None:
    assert not is_url(url)
