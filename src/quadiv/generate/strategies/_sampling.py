"""The baseline strategy: n independent samples per prompt at a given temperature, top-p and min-p."""
from __future__ import annotations

from typing import Any

from quadiv.errors import UsageError
from quadiv.generate._base import Backend, Completion, GenRequest, Strategy, register_strategy
from quadiv.generate._prompt_files import chat_messages


@register_strategy
class Sampling(Strategy):
    """Ancestral sampling from the tempered, truncated next-token distribution, n times per prompt.

    p(v) ∝ exp(ℓ(v) / T) restricted to the smallest top set with mass >= top_p (nucleus sampling,
    Holtzman et al. 2020, sec. 3.1) and to tokens with p(v) >= min_p * max_u p(u) (min-p sampling,
    Nguyen et al. 2024, sec. 3). Temperature and min_p are the diversity knobs (higher T, lower
    min_p: more diverse). One request asks for all ``n`` samples when the backend offers
    ``n_samples``; otherwise n requests go out together, with seeds ``seed + i``.

    Parameters:
        temperature: T, the softmax temperature (0: greedy).
        top_p: nucleus mass kept (1: off).
        min_p: min-p threshold relative to the top token (None: off; needs a backend with min_p).
        max_tokens: token cap of each sample.
        system: an optional system message.
        logprobs: keep this many top log-probs per generated token in the row's ``top_logprobs`` (measure's topk_*; None: off).
    """

    name = "sampling"

    def __init__(self, temperature: float = 1.0, top_p: float = 1.0, min_p: float | None = None,
                 max_tokens: int = 512, system: str | None = None, logprobs: int | None = None):
        if temperature < 0 or not 0 < top_p <= 1 or (min_p is not None and not 0 <= min_p <= 1):
            raise UsageError(f"sampling needs temperature >= 0, top_p in (0, 1] and min_p in [0, 1]; got "
                             f"temperature={temperature}, top_p={top_p}, min_p={min_p}")
        if max_tokens < 1:
            raise UsageError(f"sampling needs max_tokens >= 1, got {max_tokens}")
        self.temperature, self.top_p, self.min_p = temperature, top_p, min_p
        if logprobs is not None and logprobs < 1:
            raise UsageError(f"sampling needs logprobs >= 1 (or None), got {logprobs}")
        self.max_tokens, self.system, self.logprobs = max_tokens, system, logprobs

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        """Chat, plus min_p and top_logprobs when set (a server without them is refused, not silently ignored)."""
        return frozenset({"chat"} | ({"min_p"} if self.min_p is not None else set())
                         | ({"top_logprobs"} if self.logprobs is not None else set()))

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        if "n_samples" in backend.capabilities:
            requests = [self._request(prompt, n, seed)]
        else:
            requests = [self._request(prompt, 1, seed + i) for i in range(n)]
        return [self._row(c) for completions in backend.generate(requests) for c in completions]

    def _row(self, c: Completion) -> dict[str, Any]:
        row: dict[str, Any] = {"text": c.text, "finish_reason": c.finish_reason}
        if self.logprobs is not None:
            row["top_logprobs"] = [[{"token": t, "logprob": lp} for t, lp in position.items()]
                                   for position in c.top_logprobs or []]
        return row

    def _request(self, prompt: str, n: int, seed: int) -> GenRequest:
        return GenRequest(messages=chat_messages(prompt, self.system), n=n, temperature=self.temperature,
                          top_p=self.top_p, min_p=self.min_p, max_tokens=self.max_tokens, seed=seed,
                          logprobs=self.logprobs)
