"""A scripted fake Backend for strategy tests: programmed replies, configurable capabilities, a request log.

``FakeBackend(replies=[...])`` answers requests in order from the list; ``FakeBackend(responder=f)``
answers each request with ``f(request, index)``. A reply is a string (one completion, or the same text
``n`` times when the request asks for n), a list of strings (the n completions) or a list of
:class:`Completion`. Every request is kept in ``requests``; ``batches`` counts ``generate`` calls.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from quadiv.generate import Completion, GenRequest

Reply = Any


class FakeBackend:
    """A Backend whose answers are scripted; ``capabilities`` default to chat only."""

    name = "fake"
    model = "fake-model"

    def __init__(self, replies: Iterable[Reply] = (), responder: Callable[[GenRequest, int], Reply] | None = None,
                 capabilities: Iterable[str] = ("chat",)):
        self.capabilities = frozenset(capabilities)
        self._replies = deque(replies)
        self._responder = responder
        self.requests: list[GenRequest] = []
        self.batches = 0

    def generate(self, requests: Sequence[GenRequest]) -> list[list[Completion]]:
        self.batches += 1
        out = []
        for request in requests:
            index = len(self.requests)
            self.requests.append(request)
            if self._responder is not None:
                reply = self._responder(request, index)
            elif self._replies:
                reply = self._replies.popleft()
            else:
                raise AssertionError(f"FakeBackend has no reply left for request {index}: {last_user(request)!r}")
            out.append(_completions(reply, request.n))
        return out

    def user_texts(self) -> list[str]:
        """The last user message of every request so far."""
        return [last_user(r) for r in self.requests]


def last_user(request: GenRequest) -> str:
    """The content of the request's last user message."""
    return next(m["content"] for m in reversed(request.messages or []) if m["role"] == "user")


def system_text(request: GenRequest) -> str:
    """The content of the request's system message ('' when it has none)."""
    return next((m["content"] for m in request.messages or [] if m["role"] == "system"), "")


def _completions(reply: Reply, n: int) -> list[Completion]:
    if isinstance(reply, str):
        return [Completion(text=reply, finish_reason="stop") for _ in range(n)]
    return [r if isinstance(r, Completion) else Completion(text=r, finish_reason="stop") for r in reply]
