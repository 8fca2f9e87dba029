"""A hostile API on loopback, independent of prelabel's sandbox: it echoes the key it is sent
in every field it can, trickles, sends huge bodies, never answers, redirects, says 200 with
``success: false``, or answers something that is not JSON.

``HostileServer(mode)`` runs in a thread; ``mode`` may be changed between requests.
``sent_bytes`` counts what the server managed to write (a client that cuts a huge body or a
trickle short makes it small); ``requests`` counts requests per path.

Mode ``results`` plays the three hosts of ``results fetch`` on one loopback port: GET
``/v1/projects/P/jobs/ID`` answers (``job_http_status``) ``job_raw`` (bytes) or ``{"success": true, "data":
job}``; ``/v1/attachments`` redirects (``attachment_status``) to ``location``; any other
path (the storage host) answers ``result``. In each, ``{key}`` becomes the last API key the
server was sent and ``{url}`` its own root, so a script can echo the key anywhere.
``storage_mode`` makes storage never answer (``silent``), trickle the result
(``trickle``) or send ``huge_bytes`` with no Content-Length (``huge``). ``paths`` lists
every request's raw path; ``keyed`` those that carried the key.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections import Counter
from typing import Any

import orjson

MODES = (
    "echo",  # 200 success, every value (job_id, batch_id, ids, headers) holds the key
    "echo_error",  # 400 with the key as code and message, and in headers
    "echo_html",  # 502 HTML page quoting the key
    "trickle",  # a valid answer, one byte every `trickle_gap` seconds
    "huge",  # 200 with a close-delimited body of `huge_bytes`
    "huge_declared",  # 200 declaring Content-Length: 500 MB, then sending slowly
    "silent",  # reads the request, never answers
    "redirect",  # 307 to a URL holding the key
    "false",  # 200 {"success": false}
    "not_json",  # 200 text/plain
    "results",  # results fetch: GET job, attachments and storage as scripted (see below)
)


class HostileServer:
    def __init__(self, mode: str = "echo", *, trickle_gap: float = 0.05) -> None:
        assert mode in MODES
        self.mode = mode
        self.trickle_gap = trickle_gap
        self.huge_bytes = 64 << 20
        self.sent_bytes = 0
        self.requests: Counter[str] = Counter()
        self.keys_seen: set[str] = set()
        # mode "results"
        self.job: Any = {"status": "completed", "result": "https://private.example.com/r.json"}
        self.job_raw: bytes | None = None
        self.job_http_status = 200
        self.attachment_status = 302
        self.location = "{url}/storage/r.json"
        self.result = orjson.dumps(
            {"data": {"annotation_data": {"annotations": []}, "video_data": {"frames": []}}}
        )
        self.storage_mode = ""  # "", or "silent", "trickle", "huge": how storage answers
        self.paths: list[str] = []
        self.keyed: list[str] = []
        self._last_key = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                outer._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                outer._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    # -- answers --------------------------------------------------------------------------

    def _write(self, h: http.server.BaseHTTPRequestHandler, data: bytes) -> bool:
        try:
            h.wfile.write(data)
            h.wfile.flush()
        except OSError:
            return False
        with self._lock:
            self.sent_bytes += len(data)
        return True

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        key = h.headers.get("x-api-key", "")
        with self._lock:
            self.requests[h.path.split("?")[0]] += 1
            self.keys_seen.add(key)
            self.paths.append(h.path)
            if key:
                self.keyed.append(h.path)
                self._last_key = key
        ref = key
        if body:
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                ref = str(orjson.loads(body).get("reference_id") or key)
        mode = self.mode
        if mode == "results":
            self._results(h)
            return
        if mode == "silent":
            self._stop.wait(30)
            h.close_connection = True
            return
        if mode == "redirect":
            self._plain(h, 307, b"", {"location": f"https://evil.example/?k={key}"})
            return
        if mode == "echo_error":
            err = {"success": False, "error": {"code": key, "message": f"bad key {key}"}}
            self._plain(h, 400, orjson.dumps(err), {"x-echo": key, "retry-after": key})
            return
        if mode == "echo_html":
            page = f"<html><body><h1>502</h1><pre>x-api-key: {key}</pre></body></html>"
            self._plain(h, 502, page.encode(), {"content-type": "text/html", "x-echo": key})
            return
        if mode == "false":
            self._plain(h, 200, b'{"success": false}', {})
            return
        if mode == "not_json":
            self._plain(h, 200, b"OK, thanks " + key.encode(), {"content-type": "text/plain"})
            return
        answer = self._echo_answer(h.path, key, ref)
        if mode == "echo":
            self._plain(h, 200, answer, {"x-echo": key, "set-cookie": f"k={key}"})
        elif mode == "trickle":
            head = (
                f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                f"content-length: {len(answer)}\r\nx-pad: {'p' * 200}\r\n\r\n"
            ).encode()
            for i in range(len(head + answer)):
                if self._stop.is_set() or not self._write(h, (head + answer)[i : i + 1]):
                    break
                time.sleep(self.trickle_gap)
            h.close_connection = True
        elif mode == "huge":
            head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
            if self._write(h, head + b'{"success": true, "data": {"pad": "'):
                chunk = b"x" * 65536
                for _ in range(self.huge_bytes // len(chunk)):
                    if self._stop.is_set() or not self._write(h, chunk):
                        break
            h.close_connection = True
        elif mode == "huge_declared":
            head = (
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: 524288000\r\n\r\n"
            )
            if self._write(h, head):
                for _ in range(200):
                    if self._stop.is_set() or not self._write(h, b"x" * 65536):
                        break
                    time.sleep(0.01)
            h.close_connection = True

    def _fill(self, text: str) -> str:
        return text.replace("{key}", self._last_key).replace("{url}", self.url)

    def _results(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        if path.startswith("/v1/projects/"):
            if self.job_raw is not None:
                body = self._fill(self.job_raw.decode()).encode()
            else:
                answer = {"success": True, "data": self.job}
                body = self._fill(orjson.dumps(answer).decode()).encode()
            self._plain(h, self.job_http_status, body, {"content-type": "application/json"})
        elif path == "/v1/attachments":
            self._plain(h, self.attachment_status, b"", {"location": self._fill(self.location)})
        elif self.storage_mode == "silent":
            self._stop.wait(30)
            h.close_connection = True
        elif self.storage_mode == "trickle":
            body = self._fill(self.result.decode()).encode()
            head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            for i in range(len(head + body)):
                if self._stop.is_set() or not self._write(h, (head + body)[i : i + 1]):
                    break
                time.sleep(self.trickle_gap)
            h.close_connection = True
        elif self.storage_mode == "huge":
            if self._write(h, b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + b"[" * 10):
                for _ in range(self.huge_bytes // 65536):
                    if self._stop.is_set() or not self._write(h, b" " * 65536):
                        break
            h.close_connection = True
        else:
            body = self._fill(self.result.decode()).encode()
            self._plain(h, 200, body, {"content-type": "application/json"})

    def _echo_answer(self, path: str, key: str, ref: str) -> bytes:
        if path.endswith("/details"):
            data: Any = {
                "name": key,
                "batches": [
                    {"id": key, "name": "b", "is_default": True},
                    {"id": f"{key}-2", "name": key, "is_default": False},
                ],
            }
        elif "/batch/" in path:
            data = {"jobs": [{"id": key, "reference_id": ref}], "next_page_token": ""}
        elif path.endswith("/batch"):
            data = {"batch_id": key}
        else:
            data = {"job_id": f"J-{key}", "reference_id": key, "work_flow_id": key}
        return orjson.dumps({"success": True, "data": data, "echo": key})

    def _plain(
        self,
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"content-length: {len(body)}")
        self._write(h, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
