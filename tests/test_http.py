"""The shared OpenAI-compatible client: retries, refusals that keep the server's message, close()."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from quadiv import _http
from quadiv._http import OpenAIClient, endpoint
from quadiv.errors import EmbeddingRequestError, RemoteError


@pytest.fixture
def server():
    """A local server answering POSTs from ``script``: (status, JSON body, headers) per request."""
    script: list[tuple[int, dict, dict]] = []
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            status, body, headers = script.pop(0) if script else (200, {"ok": True}, {})
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script, seen
    httpd.shutdown()


def client(url: str, **kw) -> OpenAIClient:
    options = {"timeout": 5.0, "max_retries": 3, "backoff": 0.01, "max_backoff": 0.02,
               "refusal": lambda url, status, problem: f"refused: {problem}",
               "exhausted": lambda url, tries, problem: f"gave up after {tries}: {problem}", **kw}
    return OpenAIClient(endpoint(url, "sk-test"), EmbeddingRequestError, **options)


def test_a_503_is_retried_after_the_servers_retry_after(server, monkeypatch):
    url, script, seen = server
    waits = []
    monkeypatch.setattr(_http.time, "sleep", waits.append)
    script[:] = [(503, {"error": {"message": "busy"}}, {"Retry-After": "0.05"})]
    c = client(url)
    assert c.post("/x", {"a": 1}) == {"ok": True}
    assert seen == [{"a": 1}] * 2 and waits == [0.05] and (c.requests, c.retries) == (2, 1)


def test_a_refusal_is_not_retried_and_keeps_status_and_server_message(server):
    url, script, seen = server
    script[:] = [(422, {"detail": "no such field"}, {})]
    with pytest.raises(EmbeddingRequestError) as err:
        client(url).post("/x", {})
    assert isinstance(err.value, RemoteError) and len(seen) == 1
    assert (err.value.status, err.value.problem) == (422, "HTTP 422: no such field")
    assert str(err.value) == "refused: HTTP 422: no such field"


def test_giving_up_names_the_tries_and_the_last_problem(server, monkeypatch):
    url, script, _ = server
    monkeypatch.setattr(_http.time, "sleep", lambda seconds: None)
    script[:] = [(500, {"error": "down"}, {})] * 3
    with pytest.raises(EmbeddingRequestError, match="^gave up after 3: HTTP 500: down$"):
        client(url, max_retries=2).post("/x", {})


def test_after_close_nothing_is_sent(server):
    url, _, seen = server
    c = client(url, closed="closed, sorry")
    c.close()
    with pytest.raises(EmbeddingRequestError, match="^closed, sorry$"):
        c.post("/x", {})
    assert seen == []


def test_retry_after_reads_seconds_and_http_dates_and_caps_them():
    assert _http.retry_after_seconds("2.5") == 2.5
    assert _http.retry_after_seconds("9999") == _http.MAX_RETRY_AFTER
    assert _http.retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0
    assert _http.retry_after_seconds("soon") is None
