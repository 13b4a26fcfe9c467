"""STEER: contrastive expert guidance and negative prompting, as a transformers logits processor.

At each decoding step t, with ℓ_M = log_softmax of model M's next-token logits,

    s_t = (1 + γ)·ℓ_E(x ⊕ y_<t) − γ·ℓ_B(x ⊕ y_<t) − η·ℓ_E(n ⊕ y_<t),    y_t ~ softmax(top_k(s_t, 10))

E is the expert (the backend's model, fine-tuned on the real data), B the base model, x the task
prompt and n the negative context: m examples drawn at random from a pool P (the real examples, plus
every generated example as it finishes), space-joined, without instruction. The γ-term is contrastive
decoding (fidelity to the domain), the η-term pushes away from what the pool already holds (novelty).
O'Neill et al. 2023, "Steering Language Generation: Harnessing Contrastive Expert Guidance and
Negative Prompting for Coherent and Diverse Synthetic Data Generation" (arXiv 2308.07645), sec. 3;
defaults γ=0.2, η=0.6, m=10, top-k=10 from the authors' ``STEERPipeline`` (GENERATION.md sec. 2).

Against the reference code (charlieoneill11/diverse-llm): E and B keep KV caches here (the reference
re-runs both on the full sequence each step); the expert term has the paper's (1 + γ) weight (the
reference's ``ContrastiveDecoding`` returns ℓ_E − γ·ℓ_B); the cache argument is ``cache=``
(transformers 5.x). Backends: transformers only (``logits_hook`` + ``multi_model_step``). vLLM logits
processors see only the logits tensor and cannot run a second model or context, so STEER is refused
there; an OpenAI-compatible server cannot run it either (GENERATION.md sec. 2(f)).
"""
from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any, cast

from quadiv.errors import UsageError
from quadiv.generate._base import Backend, GenRequest, MultiModelStep, Strategy, register_strategy
from quadiv.generate.backends._transformers import accepts, import_torch, left_pad


class SteerLogitsProcessor:
    """The STEER score s = (1 + γ)·ℓ_E − γ·ℓ_B − η·ℓ_N, as a ``(input_ids, scores) -> scores`` processor.

    ``scores`` are the expert's logits on x ⊕ y_<t (the model that ``generate`` runs is the expert).
    The base model reads the same tokens; the expert also reads each row's negative context
    ``negatives[row]`` (token ids) followed by the same generated tokens. Both extra contexts keep their
    own KV cache. Rows must share one prompt (no left padding), as for STEER's samples of one prompt;
    decoding must add one token per call (sampling or greedy, not beam search). Pass it first in
    ``logits_processor`` so that temperature and top-k act on s. ``base=None`` or γ=0 drops the
    γ-term; no negatives or η=0 drops the η-term.
    """

    def __init__(self, expert: Any, base: Any | None, negatives: Sequence[Sequence[int]] | None,
                 gamma: float = 0.2, eta: float = 0.6, pad_token_id: int = 0):
        self.gamma, self.eta = gamma, eta
        self._base = _Context(base, pad_token_id) if base is not None and gamma != 0 else None
        self._negative = _Context(expert, pad_token_id) if negatives and eta != 0 else None
        self._negatives = [list(n) for n in negatives or ()]
        self._length: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = import_torch()
        first = self._length is None
        if not first and input_ids.shape[1] != self._length + 1:
            raise UsageError("the STEER processor needs decoding that adds one token per step (sampling or "
                             f"greedy); the sequence went from {self._length} to {input_ids.shape[1]} tokens")
        self._length = input_ids.shape[1]
        out = (1 + self.gamma) * torch.log_softmax(scores.float(), -1)
        if self._base is not None:
            base = self._base.start(input_ids.tolist()) if first else self._base.extend(input_ids[:, -1])
            out = out - self.gamma * _match(base, out)
        if self._negative is not None:
            if first and len(self._negatives) != input_ids.shape[0]:
                raise UsageError(f"STEER needs one negative context per row: {len(self._negatives)} "
                                 f"contexts for {input_ids.shape[0]} rows")
            neg = self._negative.start(self._negatives) if first else self._negative.extend(input_ids[:, -1])
            out = out - self.eta * _match(neg, out)
        return out.to(scores.dtype)


class _Context:
    """One extra context decoded beside generation: its model, KV cache, attention mask and positions."""

    def __init__(self, model: Any, pad_token_id: int):
        self.model, self.pad = model, pad_token_id
        self.extra = {"logits_to_keep": 1} if accepts(model, "logits_to_keep") else {}
        self.cache = self.mask = self.position = None

    def start(self, contexts: list[list[int]]) -> Any:
        """Prefill the left-padded contexts; the next-token log-probs (rows, V)."""
        torch = import_torch()
        ids, self.mask = left_pad(contexts, self.pad, torch)
        positions = (self.mask.cumsum(-1) - 1).clamp(min=0)
        self.position = positions[:, -1:]
        return self._forward(ids, positions)

    def extend(self, tokens: Any) -> Any:
        """Append one token per row; the next-token log-probs (rows, V)."""
        torch = import_torch()
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.shape[0], 1))], -1)
        self.position = self.position + 1
        return self._forward(tokens.reshape(-1, 1).cpu(), self.position)

    def _forward(self, ids: Any, positions: Any) -> Any:
        torch = import_torch()
        device = self.model.device
        with torch.no_grad():
            out = self.model(input_ids=ids.to(device), attention_mask=self.mask.to(device),
                             position_ids=positions.to(device), cache=self.cache, use_cache=True, **self.extra)
        self.cache = out.cache
        return torch.log_softmax(out.logits[:, -1].float(), -1)


def _match(logp: Any, like: Any) -> Any:
    if logp.shape != like.shape:
        raise UsageError(f"STEER models must share one vocabulary: next-token scores of width {logp.shape[-1]} "
                         f"and {like.shape[-1]}; use an expert and base with the same tokenizer")
    return logp.to(like.device)


@register_strategy
class Steer(Strategy):
    """STEER sampling (O'Neill et al. 2023): expert guidance against a base model, negative prompts from a pool.

    ``base``: the base model (a local directory, or a loaded model); required when γ ≠ 0.
    ``examples``: the real examples that seed the pool P; with ``grow`` every generated text joins P.
    ``num_negatives`` m examples form each sample's negative context; a sample drawn while P is empty
    has no η-term (its row records ``negatives: 0``). ``batch_size`` samples are drawn in parallel:
    1 (the default, as the reference) lets every sample see all earlier ones in P.
    Rows: ``text``, ``finish_reason``, ``negatives`` (m used), ``pool_size`` (|P| when drawn); the
    recorded parameters hold ``num_examples``, not the examples.

    Parameters:
        base: the base model directory for the contrastive term (needed when gamma is not 0).
        gamma: weight of the expert-minus-base guidance.
        eta: weight of the negative-prompt term.
        examples: real examples that seed the negative pool.
        num_negatives: m, examples in each sample's negative context.
        grow: add every generated text to the pool.
        top_k: tokens kept at each step.
        temperature: sampling temperature (> 0).
        max_tokens: token cap of each sample.
        batch_size: samples drawn in parallel.
        raw_prompt: send the prompt as raw text instead of through the chat template.
    """

    name = "steer"
    requires = frozenset({"logits_hook", "multi_model_step"})

    def __init__(self, base: str | Any | None = None, gamma: float = 0.2, eta: float = 0.6,
                 examples: Sequence[str] = (), num_negatives: int = 10, grow: bool = True, top_k: int = 10,
                 temperature: float = 1.0, max_tokens: int = 256, batch_size: int = 1,
                 raw_prompt: bool = False):
        if gamma != 0 and base is None:
            raise UsageError(f"steer: gamma={gamma} needs a base model for the contrastive term; give "
                             "base=<model directory>, or gamma=0 for negative prompting only")
        if gamma < 0 or eta < 0 or num_negatives < 0 or batch_size < 1 or temperature <= 0:
            raise UsageError("steer: expected gamma >= 0, eta >= 0, num_negatives >= 0, batch_size >= 1 and "
                             f"temperature > 0; got {gamma}, {eta}, {num_negatives}, {batch_size}, {temperature}")
        self.base = base if base is None or isinstance(base, str) else type(base).__name__
        self.gamma, self.eta, self.num_negatives, self.grow = gamma, eta, num_negatives, grow
        self.top_k, self.temperature, self.max_tokens = top_k, temperature, max_tokens
        self.batch_size, self.raw_prompt = batch_size, raw_prompt
        self._base_ref, self._base_model = base, None
        self._pool = [str(e) for e in examples]
        self.num_examples = len(self._pool)
        self._lock = threading.Lock()

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` STEER samples for ``prompt``, drawn ``batch_size`` at a time; the pool grows as they finish.

        Runs for different prompts are serialised (they share the pool); which prompt reaches the pool
        first follows the runner's order, so only a run with concurrency 1 repeats exactly.
        """
        with self._lock:
            return self._run(backend, prompt, n, seed)

    def _run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        local = _model_access(backend)
        lm, tok = local.lm, local.tokenizer
        if self._base_model is None and self._base_ref is not None and self.gamma != 0:
            self._base_model = local.companion(self._base_ref)
        rng = random.Random(seed)
        rows: list[dict[str, Any]] = []
        for start in range(0, n, self.batch_size):
            k = min(self.batch_size, n - start)
            negatives = [self._negative_context(rng) for _ in range(k)]
            used = min(self.num_negatives, len(self._pool)) if self.eta != 0 else 0
            ids = [list(tok(text).input_ids) for text in negatives] if used else None
            pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
            processor = SteerLogitsProcessor(lm, self._base_model, ids, self.gamma, self.eta, pad)
            request = self._request(prompt, k, seed + start, processor)
            completions = backend.generate([request])[0]
            rows += [{"text": c.text, "finish_reason": c.finish_reason, "negatives": used,
                      "pool_size": len(self._pool)} for c in completions]
            if self.grow:
                self._pool += [c.text for c in completions]
        return rows

    def _negative_context(self, rng: random.Random) -> str:
        m = min(self.num_negatives, len(self._pool))
        return " ".join(rng.sample(self._pool, m))

    def _request(self, prompt: str, k: int, seed: int, processor: SteerLogitsProcessor) -> GenRequest:
        text = {"prompt": prompt} if self.raw_prompt else {"messages": [{"role": "user", "content": prompt}]}
        return GenRequest(**text, n=k, temperature=self.temperature, top_k=self.top_k,
                          max_tokens=self.max_tokens, seed=seed, extra={"logits_processors": [processor]})


def _model_access(backend: Backend) -> MultiModelStep:
    # hasattr in a fixed order (isinstance's is a set's): a model that fails to load reports first.
    if not all(hasattr(backend, a) for a in ("lm", "tokenizer", "companion")):
        raise UsageError(f"strategy 'steer' needs a local model it can run token by token; backend "
                         f"'{backend.name}' gives no model access: use the transformers backend")
    return cast(MultiModelStep, backend)
