"""QDHF's learned descriptors: a linear projection of embeddings fitted to triplet similarity judgements.

Ding et al. 2024, "Quality Diversity through Human Feedback", ICML (arXiv 2310.12103), sec. 4;
reference ``ld-ing/qdhf`` (``DisEmbed``; GENERATION.md sec. 7.2). A linear map f(h) = W h, W: (D, d),
is fitted so that distances in its space agree with judgements "x1 is closer to r than x2" (y = +1,
else -1), by the hinge loss

    L(W) = mean_i max(0, m - y_i (||f(r_i) - f(x2_i)||^2 - ||f(r_i) - f(x1_i)||^2)),  m = 0.05,

with Adam (lr 1e-3) on 75% of the triplets for up to 1000 epochs, keeping the W of best validation
agreement. Online QDHF collects ``n_triplets`` (100) new judgements from the current archive and refits
at iterations {1, 21, 51, 101}; triplets accumulate and the archive is rebuilt under the new descriptors.
Each learned dimension is rescaled to [0, 1] by the range of the texts it was fitted on (the paper
updates the grid bounds from the data); values outside are clipped to the end bins by the archive.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from quadiv.errors import UsageError

TRIPLET_TEMPLATE = ("Here are three texts.\n\nText A:\n{anchor}\n\nText B:\n{first}\n\nText C:\n{second}\n\nWhich text "
                    "is more similar to Text A: B or C? Answer with the letter only.\nAnswer:")


class LearnedProjection:
    """A joint describer of ``dims`` axes in [0, 1]: QDHF's projection, refitted on ``refit_at`` iterations.

    ``embed``: an embedder name (quadiv.embed) or a function texts -> (n, d) rows. ``judge``: a function
    ``(anchor, first, second) -> True when first is closer``, or a :class:`TripletJudge`.
    """

    joint = True

    def __init__(self, embed: Any, judge: Any, dims: int = 2, n_triplets: int = 100, margin: float = 0.05,
                 lr: float = 1e-3, epochs: int = 1000, refit_at: Sequence[int] = (0, 1, 21, 51, 101)):
        if dims < 1 or n_triplets < 1 or epochs < 1 or not lr > 0:
            raise UsageError(f"the learned projection needs dims, n_triplets, epochs >= 1 and lr > 0; got {dims}, "
                             f"{n_triplets}, {epochs}, {lr}")
        self.embed, self.judge, self.dims, self.n_triplets = embed, judge, dims, n_triplets
        self.margin, self.lr, self.epochs, self.refit_at = margin, lr, epochs, frozenset(refit_at)
        self.W: np.ndarray | None = None
        self.low: np.ndarray | None = None
        self.high: np.ndarray | None = None
        self.triplets: list[tuple[str, str, str, int]] = []

    def _features(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(self.embed, str):
            from quadiv.embed import embed

            return np.asarray(embed(list(texts), self.embed), dtype=np.float64)
        return np.asarray(self.embed(list(texts)), dtype=np.float64)

    def describe(self, texts: list[str], prompts: list[str | None]) -> list[tuple[float, ...]]:
        if self.W is None:
            raise UsageError("the learned projection has not been fitted: its first refit iteration must come "
                             "before the first texts are described (include 0 in `refit_at`)")
        Z = self._features(texts) @ self.W.T
        scaled = (Z - self.low) / np.where(self.high > self.low, self.high - self.low, 1.0)
        return [tuple(float(v) for v in row) for row in scaled]

    def refit(self, texts: Sequence[str], rng: np.random.Generator) -> dict[str, Any]:
        """Judge ``n_triplets`` new triplets drawn from ``texts``, fit on every triplet so far; the new state."""
        texts = list(dict.fromkeys(texts))
        H_all = self._features(texts)
        if self.W is None:  # nn.Linear's initialisation: uniform(-1/sqrt(d), 1/sqrt(d))
            bound = 1 / math.sqrt(H_all.shape[1])
            self.W = rng.uniform(-bound, bound, (self.dims, H_all.shape[1]))
        if len(texts) >= 3:
            picks = [rng.choice(len(texts), 3, replace=False) for _ in range(self.n_triplets)]
            asked = [(texts[a], texts[b], texts[c]) for a, b, c in picks]
            verdicts = _judged(self.judge, asked)
            self.triplets += [(r, x1, x2, 1 if closer else -1) for (r, x1, x2), closer in zip(asked, verdicts)
                              if closer is not None]
        if self.triplets:
            self.W = self._fit(rng)
        Z = H_all @ self.W.T
        self.low, self.high = Z.min(axis=0), Z.max(axis=0)
        return self.state()

    def _fit(self, rng: np.random.Generator) -> np.ndarray:
        unique = list(dict.fromkeys(t for trip in self.triplets for t in trip[:3]))
        index = {t: k for k, t in enumerate(unique)}
        H = self._features(unique)
        r, a, b = (np.array([index[t[k]] for t in self.triplets]) for k in range(3))
        y = np.array([t[3] for t in self.triplets], dtype=float)
        Ua, Ub = H[r] - H[a], H[r] - H[b]
        order = rng.permutation(len(y))
        cut = min(len(y) - 1, round(0.75 * len(y)))
        train, valid = (order[:cut], order[cut:]) if cut >= 1 else (order, order)
        W, m1, m2 = self.W.copy(), np.zeros_like(self.W), np.zeros_like(self.W)
        best, best_W = -1.0, W.copy()
        for step in range(1, self.epochs + 1):
            W = _adam_step(W, _gradient(W, Ua[train], Ub[train], y[train], self.margin), m1, m2, step, self.lr)
            agreement = _agreement(W, Ua[valid], Ub[valid], y[valid])
            if agreement > best:
                best, best_W = agreement, W.copy()
        return best_W

    def state(self) -> dict[str, Any]:
        return {"W": self.W.tolist(), "low": self.low.tolist(), "high": self.high.tolist(),
                "triplets": [list(t) for t in self.triplets]}

    def set_state(self, state: dict[str, Any]) -> None:
        self.W, self.low, self.high = (np.asarray(state[k], dtype=np.float64) for k in ("W", "low", "high"))
        self.triplets = [tuple(t) for t in state["triplets"]]


def _delta(W: np.ndarray, Ua: np.ndarray, Ub: np.ndarray) -> np.ndarray:
    """||W u_b||^2 - ||W u_a||^2 per triplet: how much farther x2 is from r than x1, in the learned space."""
    return ((Ub @ W.T) ** 2).sum(axis=1) - ((Ua @ W.T) ** 2).sum(axis=1)


def _gradient(W: np.ndarray, Ua: np.ndarray, Ub: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    """dL/dW of the mean hinge loss; d||W u||^2 / dW = 2 W u u^T."""
    active = (margin - y * _delta(W, Ua, Ub)) > 0
    c = np.where(active, -y, 0.0) * 2.0 / len(y)
    return W @ ((Ub * c[:, None]).T @ Ub - (Ua * c[:, None]).T @ Ua)


def loss(W: np.ndarray, Ua: np.ndarray, Ub: np.ndarray, y: np.ndarray, margin: float) -> float:
    return float(np.maximum(0.0, margin - y * _delta(W, Ua, Ub)).mean())


def _agreement(W: np.ndarray, Ua: np.ndarray, Ub: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sign(_delta(W, Ua, Ub)) == y))


def _adam_step(W: np.ndarray, g: np.ndarray, m1: np.ndarray, m2: np.ndarray, step: int, lr: float,
               beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> np.ndarray:
    m1 *= beta1
    m1 += (1 - beta1) * g
    m2 *= beta2
    m2 += (1 - beta2) * g * g
    return W - lr * (m1 / (1 - beta1 ** step)) / (np.sqrt(m2 / (1 - beta2 ** step)) + eps)


def _judged(judge: Any, triplets: list[tuple[str, str, str]]) -> list[bool | None]:
    if hasattr(judge, "judge"):
        return judge.judge(triplets)
    if callable(judge):
        return [bool(judge(r, a, b)) for r, a, b in triplets]
    raise UsageError(f"the triplet judge must be a TripletJudge or a function (anchor, first, second) -> bool; "
                     f"got {type(judge).__name__}")


class TripletJudge:
    """An LLM asked which of two texts is closer to an anchor (QDHF's similarity feedback, simulated by a model).

    With top logprobs, p(B) against p(C) decides; else one reply at ``temperature``. No B or C: no verdict.
    """

    def __init__(self, backend: Any, template: str | None = None, temperature: float = 0.0):
        self.backend, self.template, self.temperature = backend, template or TRIPLET_TEMPLATE, temperature
        missing = [p for p in ("{anchor}", "{first}", "{second}") if p not in self.template]
        if missing:
            raise UsageError(f"the triplet template lacks {', '.join(missing)}")

    def judge(self, triplets: list[tuple[str, str, str]]) -> list[bool | None]:
        from quadiv.generate import GenRequest

        logprobs = "top_logprobs" in self.backend.capabilities
        requests = [GenRequest(messages=[{"role": "user", "content": self.template.replace("{anchor}", r)
                                          .replace("{first}", a).replace("{second}", b)}], max_tokens=2,
                               temperature=self.temperature, seed=k, logprobs=20 if logprobs else None)
                    for k, (r, a, b) in enumerate(triplets)]
        return [_verdict(reply, logprobs) for reply in self.backend.generate(requests)]


def _verdict(reply: list, logprobs: bool) -> bool | None:
    if logprobs and reply and reply[0].top_logprobs:
        p = {"b": 0.0, "c": 0.0}
        for token, logprob in reply[0].top_logprobs[0].items():
            key = token.strip().lower()
            if key in p:
                p[key] += math.exp(logprob)
        if p["b"] + p["c"] > 0:
            return p["b"] >= p["c"]
    found = re.match(r"\W*([bc])\b", reply[0].text.strip().lower()) if reply else None
    return None if found is None else found.group(1) == "b"

