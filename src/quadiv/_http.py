"""What the OpenAI-compatible HTTP clients share: where requests go, and what a failure says.

Used by the ``openai`` generation backend and the ``openai:<model>`` embedder. A refused connection
or an unresolvable host (``httpx.ConnectError``) is not an overloaded server: the clients try it once
more after :data:`CONNECT_RETRY_WAIT` seconds, then stop with a message naming the URL, whether it is
the public OpenAI endpoint by default, and whether an API key was found.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from quadiv.errors import UsageError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONNECT_RETRY_WAIT = 0.2  # seconds before the one retry of a refused connection
CONNECT_TRIES = 2


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
