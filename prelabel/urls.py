"""The attachment URLs the API fetches: http(s)://, s3:// and gs://."""

from __future__ import annotations

import re

_URL = re.compile(r"^(https?://[^\s/]+|s3://[^\s/]+|gs://[^\s/]+)(/\S*)?$", re.IGNORECASE)


def is_url(value: str) -> bool:
    """True for an ``http(s)://``, ``s3://`` or ``gs://`` URL with a host (or bucket)."""
    return bool(_URL.match(value))
