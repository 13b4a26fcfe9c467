"""The one retrying OpenAI-compatible HTTP client: where requests go, how they are retried, what failures say.

Used by the ``openai`` generation backend and the ``openai:<model>`` embedder. A refused connection
or an unresolvable host (``httpx.ConnectError``) is not an overloaded server: the client tries it once
more after :data:`CONNECT_RETRY_WAIT` seconds, then stops with a message naming the URL, whether it is
the public OpenAI endpoint by default, and whether an API key was found.
"""
from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quadiv.errors import RemoteError, UsageError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONNECT_RETRY_WAIT = 0.2  # seconds before the one retry of a refused connection
CONNECT_TRIES = 2
RETRY_STATUS = frozenset({408, 409, 429})  # retried like a 5xx; any other 4xx is a refusal
MAX_RETRY_AFTER = 300.0  # seconds: the longest Retry-After honoured


@dataclass(frozen=True)
class Endpoint:
    """A server's base URL and API key, and where the URL came from (for error messages)."""

    base_url: str
    key: str | None
    origin: str  # "given", "OPENAI_BASE_URL" or "default"

    def notes(self) -> str:
        """'; ' + why the URL is this one and that no key was found, to end a message; '' if neither."""
        parts = []
        if self.origin == "default":
            parts.append(f"no --base-url was given, so this is the public OpenAI endpoint {DEFAULT_BASE_URL}")
        elif self.origin == "OPENAI_BASE_URL":
            parts.append("the URL comes from $OPENAI_BASE_URL")
        if self.key is None:
            parts.append("no API key was found (OPENAI_API_KEY and QUADIV_API_KEY are unset)")
        return "".join(f"; {part}" for part in parts)

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced by ***."""
        return text.replace(self.key, "***") if self.key else text


def endpoint(base_url: str | None, api_key: str | None) -> Endpoint:
    """The endpoint from the arguments, else $OPENAI_BASE_URL and $OPENAI_API_KEY / $QUADIV_API_KEY.

    Without either URL it is OpenAI's public endpoint; a URL without http(s):// is a UsageError.
    """
    env_url = os.environ.get("OPENAI_BASE_URL")
    origin = "given" if base_url else "OPENAI_BASE_URL" if env_url else "default"
    url = (base_url or env_url or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"the base URL must start with http:// or https://, got '{url}' "
                         "(e.g. http://localhost:8000/v1)")
    key = api_key or os.environ.get("OPENAI_API_KEY") or os.environ.get("QUADIV_API_KEY")
    return Endpoint(url, key, origin)


def is_connect_failure(err: Exception) -> bool:
    """Whether ``err`` is a refused connection or an unresolvable host (not a timeout)."""
    import httpx

    return isinstance(err, httpx.ConnectError)


def unreachable(url: str, problem: str, tries: int, where: Endpoint) -> str:
    """The one-line message for a server that could not be connected to."""
    return (f"POST {url} still failing after {tries} {'try' if tries == 1 else 'tries'}, last {problem}: cannot "
            f"connect (check the URL and that the server is running{where.notes()})")


def server_message(response, where: Endpoint, limit: int = 300) -> str:
    """The server's own error text: JSON ``error.message`` (or ``detail``), else the body; one line, redacted."""
    try:
        data = response.json()
        error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
        message = error.get("message", error) if isinstance(error, dict) else error
    except ValueError:
        message = response.text
    return where.redact(" ".join(str(message).split())[:limit])


def retry_after_seconds(value: str) -> float | None:
    """Retry-After in seconds (a number or an HTTP date, RFC 9110 10.2.3), at most 5 minutes, else None."""
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


class OpenAIClient:
    """POST JSON to one OpenAI-compatible server with retries; thread-safe, ``concurrency`` requests at most.

    Retries 408, 409, 429, 5xx, timeouts, dropped connections and unreadable answers up to
    ``max_retries`` times; retry ``k`` (0-based) waits U(0, min(max_backoff, backoff * 2^k)) seconds
    ("full jitter"), or the server's Retry-After. A refused connection or an unresolvable host is tried
    once more, then reported. Any other 4xx raises at once with ``refusal(url, status, problem)``, keeping
    ``status`` and ``problem`` (the server's own message) on the error. Every failure is an ``error``;
    after ``close()`` no request is sent and no retry made (``closed`` is then the message). Waits use
    ``time.sleep``, or with ``interruptible`` an event that ``close()`` from another thread ends at once.
    ``requests`` and ``retries`` count what was sent.
    """

    def __init__(self, where: Endpoint, error: type[RemoteError], *, timeout: float, max_retries: int,
                 backoff: float, max_backoff: float, refusal: Callable[[str, int, str], str],
                 exhausted: Callable[[str, int, str], str], concurrency: int = 1,
                 closed: str = "the client was closed; no more requests are sent",
                 interruptible: bool = False):
        import httpx

        self.where, self.error = where, error
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self._refusal, self._exhausted, self._closed_message = refusal, exhausted, closed
        self._interruptible = interruptible
        headers = {"Authorization": f"Bearer {where.key}"} if where.key else {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(timeout=timeout, headers=headers, limits=limits)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.requests = self.retries = 0

    def close(self) -> None:
        """Stop retrying (a wait in progress ends if ``interruptible``) and close the connections."""
        self._closed.set()
        self._client.close()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """The JSON answer of a 200 to POST ``{base_url}{path}``, retried as the class says."""
        import httpx

        url = f"{self.where.base_url}{path}"
        problem, refused = "no attempt", 0
        for attempt in range(self.max_retries + 1):
            if self._closed.is_set():
                raise self.error(self._closed_message)
            retry_after, quick = None, False
            try:
                with self._slots:
                    self._count("requests")
                    response = self._client.post(url, json=body)
                if response.status_code == 200:
                    return response.json()
                problem = f"HTTP {response.status_code}: {server_message(response, self.where)}"
                if response.status_code < 500 and response.status_code not in RETRY_STATUS:
                    raise self.error(self._refusal(url, response.status_code, problem),
                                     status=response.status_code, problem=problem)
                retry_after = response.headers.get("retry-after")
            except (httpx.TimeoutException, httpx.TransportError, ValueError) as err:
                problem = f"{type(err).__name__}: {self.where.redact(str(err))}"
                quick = is_connect_failure(err)
                refused += quick
                if quick and (refused == CONNECT_TRIES or attempt == self.max_retries):
                    raise self.error(unreachable(url, problem, attempt + 1, self.where)) from None
            if attempt < self.max_retries:
                self._count("retries")
                self._pause(CONNECT_RETRY_WAIT if quick else self.wait(attempt, retry_after))
        raise self.error(self._exhausted(url, self.max_retries + 1, problem))

    def wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before retry ``attempt`` (0-based): the server's Retry-After, else full jitter."""
        if retry_after is not None:
            seconds = retry_after_seconds(retry_after)
            if seconds is not None:
                return seconds
        return random.uniform(0.0, min(self.max_backoff, self.backoff * 2 ** attempt))

    def _pause(self, seconds: float) -> None:
        if self._interruptible:
            self._closed.wait(seconds)
        else:
            time.sleep(seconds)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)
