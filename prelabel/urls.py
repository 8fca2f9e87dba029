"""The attachment URLs the API fetches: http(s)://, s3:// and gs://."""

from __future__ import annotations

import re

# a host (or bucket) and an optional path, with no whitespace or control character anywhere:
# RFC 3986 has no place for them unencoded, and a NUL or a newline in a URL is an injection
_TEXT = r"[^\s\x00-\x1f\x7f]"
_HOST = r"[^\s\x00-\x1f\x7f/]+"
_URL = re.compile(rf"(https?://{_HOST}|s3://{_HOST}|gs://{_HOST})(/{_TEXT}*)?", re.IGNORECASE)


def is_url(value: str) -> bool:
    """True for an ``http(s)://``, ``s3://`` or ``gs://`` URL with a host (or bucket) and no
    whitespace or control character."""
    return _URL.fullmatch(value) is not None  # not match + $: $ allows a final newline
