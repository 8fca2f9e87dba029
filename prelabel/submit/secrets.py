"""The one boundary between what a server says and what prelabel keeps or prints.

Every answer is parsed once (:func:`prelabel.submit.transport.read_answer`) and every string
in it passes through a :class:`Scrubber` before anything else sees it: error codes, messages,
job ids, batch ids, echoed reference ids, header values. A value that contains the API key is
*invalid*: it is replaced by :data:`WITHHELD` as a whole (a job_id that holds the key is no
job_id) and counted, so the run can say that it happened. Free text that is not JSON (an HTML
error page, a transport error) keeps its words with the key replaced by ``***``.

The process-wide registry (:func:`register`, :func:`scrub_text`) serves the last line of
defence: the CLI formats ``--debug`` tracebacks and internal errors through it.
"""

from __future__ import annotations

import threading
from typing import Any

WITHHELD = "<withheld: the server's value held the API key>"
MASK = "***"

_registry: set[str] = set()
_registry_lock = threading.Lock()


def register(secret: str) -> None:
    """Remember a secret for :func:`scrub_text` (empty strings are ignored)."""
    if secret:
        with _registry_lock:
            _registry.add(secret)


def scrub_text(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    with _registry_lock:
        secrets = sorted(_registry, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    return text


class Scrubber:
    """Scrubs one secret out of server values; counts the values it had to withhold."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._lock = threading.Lock()
        self.withheld = 0
        register(secret)

    def holds(self, text: str) -> bool:
        return bool(self._secret) and self._secret in text

    def text(self, text: str) -> str:
        """Free text: the secret becomes ``***``, the rest stays readable."""
        return text.replace(self._secret, MASK) if self.holds(text) else text

    def value(self, value: str) -> str:
        """A value (code, id, header): one holding the secret is withheld whole."""
        if self.holds(value):
            with self._lock:
                self.withheld += 1
            return WITHHELD
        return value

    def tree(self, obj: Any) -> Any:
        """A parsed JSON value with every string (keys included) passed through
        :meth:`value`, as a copy. Iterative: any depth a JSON parser accepts (orjson: 1024)
        is walked without a RecursionError."""
        if not isinstance(obj, dict | list):
            return self.value(obj) if isinstance(obj, str) else obj
        out: Any = {} if isinstance(obj, dict) else []
        stack: list[tuple[Any, Any]] = [(obj, out)]

        def copy(v: Any) -> Any:
            if isinstance(v, str):
                return self.value(v)
            if isinstance(v, dict | list):
                new: Any = {} if isinstance(v, dict) else []
                stack.append((v, new))
                return new
            return v

        while stack:
            src, dst = stack.pop()
            if isinstance(src, dict):
                for k, v in src.items():
                    dst[self.value(k) if isinstance(k, str) else k] = copy(v)
            else:
                dst.extend(copy(v) for v in src)
        return out

    def holds_in(self, obj: Any) -> bool:
        """True when any string of a parsed JSON value (keys included) holds the secret:
        the check of a document kept as the server sent it. Iterative, like :meth:`tree`."""
        if not self._secret:
            return False
        stack = [obj]
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                if self._secret in v:
                    return True
            elif isinstance(v, dict):
                stack.extend(v.keys())
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)
        return False


def is_id(value: object) -> bool:
    """True for a usable identifier from the server: a non-empty printable string of at most
    200 characters that was not withheld."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 200
        and value != WITHHELD
        and value.isprintable()
    )
