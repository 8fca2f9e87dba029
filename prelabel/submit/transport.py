"""Bounded requests: one deadline for the whole request and a cap on the answer's size.

httpx's timeouts apply to each network operation, so a server trickling one byte a second
never trips a 30 s read timeout. Here every socket operation (connect, TLS handshake, each
write and each read, the headers' included) gets at most the time left until the request's
deadline, which :func:`deadline` sets for the calling thread; the first operation past it
raises httpx's own timeout exception, classified as usual (connect timeout: nothing sent;
read/write timeout: the server may have acted).

Answers are read by streaming, up to :data:`MAX_ANSWER_BYTES` decoded bytes; a longer one
(or a Content-Length above the cap) is cut off, never held in memory, and the attempt
fails (:class:`AnswerTooLarge`).
"""

from __future__ import annotations

import contextlib
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import orjson

from prelabel.submit.secrets import Scrubber

# API answers are small JSON objects (a listing page of 100 jobs is ~15 KB); 1 MiB leaves
# room for any honest answer and bounds memory per worker.
MAX_ANSWER_BYTES = 1 << 20

_local = threading.local()


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Every socket operation of this thread inside the block ends by ``seconds`` from now."""
    before = getattr(_local, "at", None)
    _local.at = None if seconds is None else time.monotonic() + seconds
    try:
        yield
    finally:
        _local.at = before


def _bounded(timeout: float | None, timeout_type: type[Exception]) -> float | None:
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise timeout_type("the deadline for the whole request passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        t = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, t))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend with every operation bounded by the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        t = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, t, local_address, socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - not used by prelabel
        t = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, t, socket_options))

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries only
        self._inner.sleep(seconds)


def install_deadlines(client: httpx.Client) -> int:
    """Make every connection pool of ``client`` (its transport and the proxy transports
    httpx mounted from the environment) open its connections through
    :class:`DeadlineBackend`; returns how many pools were changed.

    httpx has no public switch for the network backend, so this sets httpcore's pool
    attribute; a transport it does not know (a test's MockTransport) is left alone, and
    :func:`body_of` still checks the deadline between reads.
    """
    transports = [getattr(client, "_transport", None)]
    transports += list(getattr(client, "_mounts", {}).values())
    changed = 0
    for t in transports:
        pool = getattr(t, "_pool", None)
        if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
            pool._network_backend = DeadlineBackend()
            changed += 1
    return changed


class AnswerTooLarge(Exception):
    """The answer is longer than :data:`MAX_ANSWER_BYTES`; it was not read."""


@dataclass(frozen=True)
class Answer:
    """A server's answer after the scrubbing boundary.

    ``data`` is the parsed JSON body with every string scrubbed (``None`` when the body is
    not JSON); ``text`` is the start of a non-JSON body, scrubbed, on one line; header
    names are lower case and values scrubbed. ``withheld`` counts values that held the key.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    data: Any = None
    text: str = ""
    withheld: int = 0


def body_of(response: httpx.Response, cap: int = MAX_ANSWER_BYTES) -> bytes:
    """The decoded body of a streamed response, refusing more than ``cap`` bytes."""
    length = response.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > cap:
        raise AnswerTooLarge(f"Content-Length {int(length)} is over the {cap}-byte cap")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        at = getattr(_local, "at", None)
        if at is not None and time.monotonic() > at:  # a transport without DeadlineBackend
            raise httpx.ReadTimeout("the deadline for the whole request passed")
        size += len(chunk)
        if size > cap:
            raise AnswerTooLarge(f"the answer passed the {cap}-byte cap; cut off")
        chunks.append(chunk)
    return b"".join(chunks)


def answer_of(status: int, headers: httpx.Headers, body: bytes, scrub: Scrubber) -> Answer:
    """Parse and scrub one answer: the only way server text enters prelabel."""
    before = scrub.withheld
    kept = {k.lower(): scrub.value(v) for k, v in headers.items()}
    try:
        obj: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        obj = None
        text = " ".join(scrub.text(body[:65536].decode("utf-8", "replace")).split())[:200]
    else:
        text = ""
        obj = scrub.tree(obj)
    return Answer(status, kept, obj, text, scrub.withheld - before)


def read_answer(response: httpx.Response, scrub: Scrubber, cap: int = MAX_ANSWER_BYTES) -> Answer:
    """Read a streamed response up to ``cap`` and pass it through the boundary."""
    return answer_of(response.status_code, response.headers, body_of(response, cap), scrub)
