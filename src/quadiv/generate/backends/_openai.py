"""The ``openai`` backend: chat completions from any OpenAI-compatible HTTP server (httpx).

What a server offers is probed once per (base URL, model) with tiny requests (GENERATION.md 12.3:
``n``, ``seed``, ``logprobs``, and the vLLM extension fields ``min_p``/``top_k`` are optional on
OpenAI-compatible servers; ``structured_output`` is ``response_format`` with a JSON schema), or given
up front with ``capabilities=`` (the CLI's ``--capabilities``). Requests are retried on 408, 409, 429,
5xx, timeouts and dropped connections with exponential backoff and full jitter (or the server's
Retry-After); a refused connection or an unresolvable host is tried once more, then reported
(:mod:`quadiv._http`); any other 4xx stops the run with one line naming the server, the model and the
server's own message.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from quadiv._http import OpenAIClient, endpoint
from quadiv._signals import block_sigint_here
from quadiv.errors import BackendRequestError, UsageError
from quadiv.generate._base import CAPABILITIES, Completion, GenRequest, register_backend

_REFUSED = (400, 422)  # the server understood the request and refused it (a probe: it lacks the field)
_PROBES = {
    "n_samples": {"n": 2},
    "seed": {"seed": 0},
    "top_logprobs": {"logprobs": True, "top_logprobs": 1},
    "min_p": {"min_p": 0.05},
    "top_k": {"top_k": 5},
    "structured_output": {"response_format": {"type": "json_schema", "json_schema": {
        "name": "probe", "schema": {"type": "object", "properties": {"ok": {"type": "string"}}}}}},
}
_PROBED: dict[tuple[str, str], frozenset[str]] = {}
_PROBE_LOCK = threading.Lock()


class OpenAIBackend:
    """Chat completions over HTTP; thread-safe, at most ``concurrency`` requests in flight.

    A request whose ``n`` the server does not honour is sent as ``n`` requests with seeds
    ``seed + i``. Retry ``k`` (0-based) waits U(0, min(max_backoff, backoff * 2^k)) seconds ("full
    jitter"), or the server's Retry-After. The API key comes from ``api_key``, else $OPENAI_API_KEY,
    else $QUADIV_API_KEY; it travels in the Authorization header only and never appears in an error.
    """

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 concurrency: int = 16, timeout: float = 60.0, max_retries: int = 8, backoff: float = 0.5,
                 max_backoff: float = 30.0, capabilities: Iterable[str] | None = None):
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise UsageError(f"concurrency must be >= 1, max_retries >= 0 and timeout > 0; got {concurrency}, "
                             f"{max_retries} and {timeout}")
        unknown = sorted(set(capabilities or ()) - CAPABILITIES)
        if unknown:
            raise UsageError(f"unknown capability {', '.join(map(repr, unknown))}; choose from: "
                             f"{', '.join(sorted(CAPABILITIES))}")
        self.model = model
        self._where = endpoint(base_url, api_key)
        self.base_url = self._where.base_url
        self.timeout, self.max_retries, self.backoff, self.max_backoff = timeout, max_retries, backoff, max_backoff
        self._given = frozenset(capabilities) | {"chat"} if capabilities is not None else None
        self._client = OpenAIClient(
            self._where, BackendRequestError, timeout=timeout, max_retries=max_retries, backoff=backoff,
            max_backoff=max_backoff, refusal=self._refusal, exhausted=self._exhausted, concurrency=concurrency,
            closed=f"the {self.name} backend was closed; no more requests are sent", interruptible=True)
        self._fanout = ThreadPoolExecutor(concurrency, thread_name_prefix="quadiv-openai", initializer=block_sigint_here)
        self._lock = threading.Lock()
        self._tokens = {"prompt_tokens": 0, "completion_tokens": 0}

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def capabilities(self) -> frozenset[str]:
        """What the server offers: given, else probed once per (base URL, model) in this process."""
        if self._given is not None:
            return self._given
        key = (self.base_url, self.model)
        with _PROBE_LOCK:
            if key not in _PROBED:
                _PROBED[key] = self._probe()
            return _PROBED[key]

    def usage(self) -> dict[str, int]:
        """Requests sent, retries, and the token counts the server reported (thread-safe snapshot)."""
        with self._lock:
            return {"requests": self._client.requests, "retries": self._client.retries, **self._tokens}

    def generate(self, requests: Sequence[GenRequest]) -> list[list[Completion]]:
        """The completions of each request; its calls run on up to ``concurrency`` connections."""
        caps = self.capabilities
        calls = [(i, self._payload(r, n, seed, caps)) for i, r in enumerate(requests) for n, seed in self._split(r, caps)]
        if len(calls) == 1:
            answers = [self._complete(calls[0][1])]
        else:
            answers = list(self._fanout.map(lambda call: self._complete(call[1]), calls))
        out: list[list[Completion]] = [[] for _ in requests]
        for (index, _), completions in zip(calls, answers):
            out[index].extend(completions)
        return out

    def close(self) -> None:
        """Stop retrying, close the connections and the fan-out threads."""
        self._client.close()
        self._fanout.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _split(request: GenRequest, caps: frozenset[str]) -> list[tuple[int, int | None]]:
        if request.n < 1:
            raise UsageError(f"a request needs n >= 1 completions, got n={request.n}")
        if request.n == 1 or "n_samples" in caps:
            return [(request.n, request.seed)]
        return [(1, None if request.seed is None else request.seed + i) for i in range(request.n)]

    def _payload(self, request: GenRequest, n: int, seed: int | None, caps: frozenset[str]) -> dict[str, Any]:
        if request.messages is None:
            raise UsageError(f"backend 'openai' ({self.model} at {self.base_url}) has no raw_completion: "
                             "send chat messages, or use --backend transformers or vllm for raw prompts")
        body: dict[str, Any] = {"model": self.model, "messages": request.messages,
                                "temperature": request.temperature, "max_tokens": request.max_tokens}
        if n != 1:
            body["n"] = n
        if request.top_p != 1.0:
            body["top_p"] = request.top_p
        if request.stop:
            body["stop"] = request.stop
        if seed is not None and "seed" in caps:
            body["seed"] = seed
        for capability, value, fields in (
                ("min_p", request.min_p, {"min_p": request.min_p}),
                ("top_k", request.top_k, {"top_k": request.top_k}),
                ("top_logprobs", request.logprobs, {"logprobs": True, "top_logprobs": request.logprobs})):
            if value is not None:
                self._need(capability, caps)
                body.update(fields)
        body.update(request.extra)
        return body

    def _need(self, capability: str, caps: frozenset[str]) -> None:
        if capability not in caps:
            raise UsageError(f"the server at {self.base_url} ({self.model}) does not offer {capability}; "
                             "leave that parameter out or use a server that has it (e.g. vLLM)")

    def _complete(self, body: dict[str, Any]) -> list[Completion]:
        data = self._post(body)
        try:
            choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
            completions = [_completion(c) for c in choices]
        except (KeyError, TypeError, AttributeError) as err:
            raise BackendRequestError(
                f"{self.base_url}/chat/completions ({self.model}) answered with an unexpected body ({err!r}); "
                "expected {'choices': [{'message': {'content': ...}}]}: is it OpenAI-compatible?") from None
        usage = data.get("usage") or {}
        with self._lock:
            for name in ("prompt_tokens", "completion_tokens"):
                self._tokens[name] += int(usage.get(name) or 0)
        return completions

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer to one POST, retried; a refusal's error keeps its ``status`` and ``problem``."""
        return self._client.post("/chat/completions", body)

    def _refusal(self, url: str, status: int, problem: str) -> str:
        hint = {401: "check the API key in OPENAI_API_KEY or QUADIV_API_KEY",
                403: "check the API key's permissions for this model",
                404: "check the model name and --base-url"}.get(status, "check the request parameters")
        notes = self._where.notes() if status in (401, 403, 404) else ""
        return f"{url} refused model '{self.model}' with {problem} ({hint}{notes})"

    def _exhausted(self, url: str, tries: int, problem: str) -> str:
        return (f"POST {url} ({self.model}) still failing after {tries} tries, last {problem} "
                "(the server may be down or overloaded: lower --concurrency or try again later)")

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        # kept because the backend's own backoff parameters are tested through it (test_openai_backend.py)
        return self._client.wait(attempt, retry_after)

    def _probe(self) -> frozenset[str]:
        """Capabilities from one tiny request with every optional field, else one request per field.

        A 400/422 to a field means the server lacks it; a refused minimal request stops with the
        server's own message (a wrong model name, a server pinned to another model).
        """
        base = {"model": self.model, "messages": [{"role": "user", "content": "Reply with OK."}],
                "max_tokens": 1, "temperature": 1.0}
        everything = dict(base)
        for fields in _PROBES.values():
            everything.update(fields)
        answer = self._accepted(everything)
        if answer is not None:
            return frozenset({"chat"} | {c for c in _PROBES if _offers(c, answer)})
        try:
            self._post(base)
        except BackendRequestError as err:
            if err.status not in _REFUSED:
                raise
            raise BackendRequestError(
                f"{self.base_url}/chat/completions refused even a minimal chat request for model '{self.model}' "
                f"with {err.problem} (check the model name and that the server speaks the OpenAI chat API)") from None
        offered = {"chat"}
        for capability, fields in _PROBES.items():
            answer = self._accepted({**base, **fields})
            if answer is not None and _offers(capability, answer):
                offered.add(capability)
        return frozenset(offered)

    def _accepted(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to ``body``, or None when the server refused it with a 400/422."""
        try:
            return self._post(body)
        except BackendRequestError as err:
            if err.status in _REFUSED:
                return None
            raise


def _offers(capability: str, answer: dict) -> bool:
    """Whether an accepted probe shows the capability: two choices for n=2, logprobs content for logprobs."""
    choices = answer.get("choices") or []
    if capability == "n_samples":
        return len(choices) >= 2
    if capability == "top_logprobs":
        return bool(choices) and bool((choices[0].get("logprobs") or {}).get("content"))
    return True


def _completion(choice: dict) -> Completion:
    content = choice["message"].get("content")
    tokens = (choice.get("logprobs") or {}).get("content")
    return Completion(
        text=content if isinstance(content, str) else "",
        finish_reason=choice.get("finish_reason"),
        token_logprobs=[t["logprob"] for t in tokens] if tokens else None,
        top_logprobs=[{a["token"]: a["logprob"] for a in t.get("top_logprobs") or []} for t in tokens]
        if tokens else None,
    )


register_backend("openai", OpenAIBackend)
