"""The OpenAI-compatible backend against a local in-process HTTP server."""

from __future__ import annotations

import hashlib
import importlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from quadiv.embed import EmbeddingRequestError, OpenAIEmbedder, embed, get_embedder

DIM = 6
KEY = "sk-secret-123"


def expected(text: str) -> np.ndarray:
    raw = np.frombuffer(hashlib.sha256(text.encode()).digest()[: DIM * 4], dtype=np.uint32).astype(np.float64)
    v = raw - 2**31
    return (v / np.linalg.norm(v)).astype(np.float32)


class Server:
    """Serves /embeddings; ``script`` is a list of status codes to answer before succeeding."""

    def __init__(self):
        self.script: list[int] = []
        self.requests: list[dict] = []
        self.auth: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.auth.append(self.headers.get("Authorization"))
                if self.path != "/v1/embeddings":
                    return self._send(404, {"error": "not found"})
                if server.script:
                    code = server.script.pop(0)
                    return self._send(
                        code, {"error": f"Incorrect API key provided: {KEY}"}, {"Retry-After": "0"}
                    )
                data = [
                    {"index": i, "embedding": (expected(t) * (i + 2)).tolist()}
                    for i, t in enumerate(body["input"])
                ]
                self._send(200, {"data": data[::-1], "model": body["model"]})

            def _send(self, code, payload, headers=None):
                blob = json.dumps(payload).encode()
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.httpd.shutdown()


@pytest.fixture
def fresh(server):
    server.script.clear(), server.requests.clear(), server.auth.clear()
    return server


def make(server, **kw) -> OpenAIEmbedder:
    return get_embedder("openai:test-model", base_url=server.url, api_key=KEY, backoff=0.001, **kw)


def test_batches_order_and_normalisation(fresh):
    texts = [f"text {i}" for i in range(7)]
    out = make(fresh, batch_size=3).encode(texts)
    assert [len(r["input"]) for r in fresh.requests] == [3, 3, 1]
    assert fresh.requests[0]["model"] == "test-model"
    assert fresh.auth == [f"Bearer {KEY}"] * 3
    np.testing.assert_allclose(out, np.stack([expected(t) for t in texts]), atol=1e-6)


def test_retries_a_500_then_succeeds(fresh):
    fresh.script[:] = [500, 429]
    out = make(fresh).encode(["a", "b"])
    assert len(fresh.requests) == 3
    np.testing.assert_allclose(out, np.stack([expected("a"), expected("b")]), atol=1e-6)


def test_gives_up_after_max_retries(fresh):
    fresh.script[:] = [503] * 5
    with pytest.raises(EmbeddingRequestError, match="after 3 tries") as err:
        make(fresh, max_retries=2).encode(["a"])
    assert len(fresh.requests) == 3 and KEY not in str(err.value)


def test_client_error_is_not_retried_and_hides_the_key(fresh):
    fresh.script[:] = [401]
    with pytest.raises(EmbeddingRequestError, match="HTTP 401") as err:
        make(fresh).encode(["a"])
    assert len(fresh.requests) == 1
    assert KEY not in str(err.value) and "***" in str(err.value)
    assert KEY not in repr(make(fresh)) and KEY not in make(fresh).name


def test_key_from_environment_and_dim_probe(fresh, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("QUADIV_API_KEY", "env-key")
    emb = OpenAIEmbedder("test-model", base_url=fresh.url)
    assert emb.dim == DIM
    assert fresh.auth == ["Bearer env-key"]


def test_unreachable_server_is_retried_then_reported():
    emb = OpenAIEmbedder("m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff=0.001, timeout=1)
    with pytest.raises(EmbeddingRequestError, match="still failing after 2 tries"):
        emb.encode(["a"])


def test_embed_caches_remote_vectors(fresh):
    first = embed(["a", "b", "a"], make(fresh))
    n = len(fresh.requests)
    second = embed(["b", "a"], make(fresh))
    assert len(fresh.requests) == n
    np.testing.assert_array_equal(second, first[[1, 0]])


def free_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("url", [f"http://127.0.0.1:{free_port()}/v1", "http://nonexistent.invalid/v1"])
def test_a_refused_connection_or_unknown_host_fails_after_one_quick_retry(url, monkeypatch):
    waits = []
    monkeypatch.setattr(importlib.import_module("quadiv._http").time, "sleep", waits.append)
    emb = OpenAIEmbedder("m", base_url=url, api_key=KEY, max_retries=5, backoff=30.0)
    with pytest.raises(EmbeddingRequestError) as err:
        emb.encode(["a"])
    message = str(err.value)
    assert f"{url}/embeddings" in message and "cannot connect" in message
    assert "ConnectError: " in message and len(message) > message.index("ConnectError: ") + 20  # the cause's text
    assert len(waits) == 1 and waits[0] < 1  # two tries, not six with up to 30 s waits


def test_without_base_url_the_error_names_the_public_endpoint_and_the_missing_key(monkeypatch):
    for name in ("OPENAI_API_KEY", "QUADIV_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("quadiv._http.DEFAULT_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setattr(importlib.import_module("quadiv._http").time, "sleep", lambda seconds: None)
    with pytest.raises(EmbeddingRequestError) as err:
        get_embedder("openai:text-embedding-3-small").encode(["a"])
    message = str(err.value)
    assert "no --base-url was given, so this is the public OpenAI endpoint" in message
    assert "no API key was found (OPENAI_API_KEY" in message and "\n" not in message


def test_a_refusal_keeps_the_servers_message(fresh):
    fresh.script[:] = [400]
    with pytest.raises(EmbeddingRequestError, match=r"HTTP 400: Incorrect API key provided: \*\*\*"):
        make(fresh).encode(["a"])
