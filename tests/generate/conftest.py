"""A local OpenAI-compatible chat server for the generation tests, with injectable faults.

``FakeOpenAI(**options).start()`` serves ``POST /v1/chat/completions`` on 127.0.0.1 at a random
port from a thread. The text of choice ``i`` is a pure function of (prompt, seed, i) (random when
the request has no seed), so a resumed run sees the same texts. Faults, each drawn per request from
a seeded RNG: ``fail_rate`` (HTTP 500), ``stall_rate`` (hold the request ``stall_seconds``),
``rate_limit_rate`` (HTTP 429 with Retry-After), ``empty_rate`` (empty content); plus ``latency``.
Server features: ``n_mode`` ("honour", "ignore" -> always one choice, "reject" -> 400 for n > 1),
``logprobs`` (answer them or leave them out), ``extensions`` (accept min_p/top_k or reject them
with 400), ``structured`` (accept ``response_format`` or reject it with 400), ``api_key`` (401
without it), ``models`` (404 for others) and ``pinned`` (400 with a server message for other models,
as transformers serve does).

Fixture ``fake_openai(**options)`` starts one and stops it after the test. Run as a script
(``python tests/generate/conftest.py [--latency S] [--fail-rate F] ...``) it serves in the
foreground and prints its base URL on the first line, for benchmarks that need it in another process.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

WORDS = (
    "river", "stone", "lantern", "orbit", "quiet", "amber", "signal", "harvest", "meadow", "circuit",
    "velvet", "canyon", "ember", "glacier", "whisper", "market", "ladder", "compass", "thunder",
    "saffron", "harbor", "pixel", "meadowlark", "tide", "forest", "copper", "violin", "desert", "comet",
    "garden", "marble", "echo", "falcon", "prism", "willow", "summit",
)


@dataclass
class FakeOpenAI:
    """An OpenAI-compatible chat completions server with configurable faults and features."""

    fail_rate: float = 0.0
    stall_rate: float = 0.0
    stall_seconds: float = 30.0
    rate_limit_rate: float = 0.0
    retry_after: float = 0.05
    empty_rate: float = 0.0
    latency: float = 0.0
    n_mode: str = "honour"
    logprobs: bool = True
    extensions: bool = True
    structured: bool = True
    api_key: str | None = None
    models: tuple[str, ...] | None = None
    pinned: str | None = None
    seed: int = 0
    requests: list[dict] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    max_in_flight: int = 0

    def start(self) -> str:
        """Serve in a daemon thread; return the base URL (``http://127.0.0.1:PORT/v1``)."""
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._in_flight = 0
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, body: dict, headers) -> tuple[int, dict, dict]:
        """(status, JSON body, extra headers) for one request; records it."""
        with self._lock:
            self.requests.append(body)
            draw = self._rng.random()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            status, payload, extra = self._decide(body, headers, draw)
        finally:
            with self._lock:
                self._in_flight -= 1
        with self._lock:
            self.statuses.append(status)
        return status, payload, extra

    def _decide(self, body: dict, headers, draw: float) -> tuple[int, dict, dict]:
        if self.api_key is not None and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, _error("Incorrect API key provided."), {}
        if self.models is not None and body.get("model") not in self.models:
            return 404, _error(f"The model `{body.get('model')}` does not exist."), {}
        if self.pinned is not None and body.get("model") != self.pinned:
            return 400, _error(f"Server is pinned to '{self.pinned}'; requested '{body.get('model')}'"), {}
        rejected = self._rejected(body)
        if rejected:
            return 400, _error(rejected), {}
        if self.latency:
            time.sleep(self.latency)
        for rate, fault in ((self.fail_rate, "fail"), (self.stall_rate, "stall"), (self.rate_limit_rate, "limit")):
            if draw < rate:
                return self._fault(fault)
            draw -= rate
        return 200, self._completion(body, empty=draw < self.empty_rate), {}

    def _rejected(self, body: dict) -> str | None:
        if self.n_mode == "reject" and body.get("n", 1) > 1:
            return "n must be 1"
        if not self.structured and "response_format" in body:
            return "response_format is not supported by this server"
        if not self.extensions:
            unknown = sorted({"min_p", "top_k"} & set(body))
            if unknown:
                return f"Unrecognized request argument supplied: {unknown[0]}"
        return None

    def _fault(self, fault: str) -> tuple[int, dict, dict]:
        if fault == "fail":
            return 500, _error("internal error"), {}
        if fault == "limit":
            return 429, _error("rate limited"), {"Retry-After": str(self.retry_after)}
        self._stopping.wait(self.stall_seconds)
        return 500, _error("stalled"), {}

    def _completion(self, body: dict, empty: bool) -> dict:
        prompt = body["messages"][-1]["content"]
        n = body.get("n", 1) if self.n_mode == "honour" else 1
        seed = body.get("seed")
        choices = []
        for i in range(n):
            words = [] if empty else sample_words(prompt, seed, i, body.get("max_tokens", 64))
            choice = {"index": i, "message": {"role": "assistant", "content": " ".join(words)},
                      "finish_reason": "stop"}
            if body.get("logprobs") and self.logprobs:
                choice["logprobs"] = {"content": [
                    {"token": w, "logprob": -1.0, "top_logprobs": [{"token": w, "logprob": -1.0}]} for w in words]}
            choices.append(choice)
        used = sum(len(c["message"]["content"].split()) for c in choices)
        return {"id": "cmpl-test", "object": "chat.completion", "model": body.get("model"), "choices": choices,
                "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": used,
                          "total_tokens": len(prompt.split()) + used}}


def sample_words(prompt: str, seed: int | None, index: int, max_tokens: int = 64) -> list[str]:
    """The words the fake server answers for (prompt, seed, choice index): 6 to 20 words, at most max_tokens."""
    if seed is None:
        rng = random.Random()
    else:
        rng = random.Random(hashlib.sha256(f"{prompt}\x00{seed}\x00{index}".encode()).digest())
    return [rng.choice(WORDS) for _ in range(rng.randint(6, 20))][:max(1, max_tokens)]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connecting at once must not be reset


def _error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def _handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                status, payload, extra = 404, _error(f"no route {self.path}"), {}
            else:
                status, payload, extra = server.answer(body, self.headers)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (a stalled request)
                self.close_connection = True

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture(autouse=True)
def _forget_probed_servers():
    """A new test server may reuse an old port: forget what earlier servers offered."""
    from quadiv.generate.backends import _openai

    _openai._PROBED.clear()


@pytest.fixture
def fake_openai():
    """Factory: ``fake_openai(**options)`` -> (server, base_url); every server is stopped after the test."""
    started = []

    def start(**options) -> tuple[FakeOpenAI, str]:
        server = FakeOpenAI(**options)
        url = server.start()
        started.append(server)
        return server, url

    yield start
    for server in started:
        server.stop()


def _main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake OpenAI-compatible chat endpoint.")
    for name in ("latency", "fail_rate", "stall_rate", "stall_seconds", "empty_rate"):
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(FakeOpenAI, name))
    parser.add_argument("--n-mode", default="honour", choices=("honour", "ignore", "reject"))
    args = parser.parse_args()
    server = FakeOpenAI(**vars(args))
    print(server.start(), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    _main()
