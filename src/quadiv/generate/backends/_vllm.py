"""vLLM's offline engine (``vllm.LLM``) as a generation backend: GPU only, written to the vLLM 0.33 API.

Chat requests go through ``LLM.chat`` (the model's chat template), raw prompts through
``LLM.generate``; each request becomes one ``SamplingParams`` (n, temperature, top_p, top_k, min_p,
seed, max_tokens, stop, logprobs). Log-probs are vLLM's default ``raw_logprobs``. Not offered here:
``logits_hook``, ``multi_model_step`` and ``step_decoder`` (vLLM logits processors are engine-level
classes that cannot call a model, GENERATION.md 12.3), so STEER and Diverse Beam Search refuse
this backend; ``beam_search`` and ``structured_output`` are not wired.

One engine per process: an engine reserves most of a GPU's memory, so the engine of a (model,
options) pair is built once, under a lock, and shared by every backend and worker thread; calls
into it are serialised (vLLM batches the requests of one call itself).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from quadiv._deps import require
from quadiv.errors import GenerationCancelled, UsageError
from quadiv.generate._base import Completion, GenRequest, register_backend

CAPABILITIES = frozenset({"chat", "raw_completion", "n_samples", "seed", "top_logprobs", "label_logprobs",
                          "prompt_scoring", "top_k", "min_p"})


_ENGINES: dict[str, Any] = {}
_ENGINES_LOCK = threading.Lock()


def _import_vllm() -> Any:
    return require("vllm", "vllm", "the vllm backend", package="vllm")


class VLLMBackend:
    """Generate with ``vllm.LLM(model, max_logprobs=..., **engine options)``, built on first use (needs a GPU).

    ``max_model_len`` (context length; None: the model's) and ``gpu_memory_utilization`` (fraction of
    GPU memory the engine reserves; None: vLLM's 0.9) are the usual engine options; any other
    ``vllm.LLM`` argument goes in ``engine_kwargs`` (CLI: ``--backend-option NAME=VALUE``).
    ``usage()`` counts requests and prompt/completion tokens.
    """

    name = "vllm"
    capabilities = CAPABILITIES

    def __init__(self, model: str, *, max_logprobs: int = 20, max_model_len: int | None = None,
                 gpu_memory_utilization: float | None = None, engine_kwargs: dict[str, Any] | None = None):
        if gpu_memory_utilization is not None and not 0 < gpu_memory_utilization <= 1:
            raise UsageError(f"gpu_memory_utilization is a fraction in (0, 1], got {gpu_memory_utilization}")
        self.model = str(model)
        options = {"max_model_len": max_model_len, "gpu_memory_utilization": gpu_memory_utilization}
        self._engine_kwargs = {"max_logprobs": max_logprobs, **{k: v for k, v in options.items() if v is not None},
                               **(engine_kwargs or {})}
        self.lock = threading.RLock()
        self._epoch = 0  # bumped by cancel(): calls still waiting for the lock then raise
        self._usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}

    @property
    def llm(self) -> Any:
        """The process's ``vllm.LLM`` engine for this model and these options (built once)."""
        key = json.dumps([self.model, self._engine_kwargs], sort_keys=True, default=str)
        with _ENGINES_LOCK:
            if key not in _ENGINES:
                _ENGINES[key] = _import_vllm().LLM(model=self.model, **self._engine_kwargs)
            return _ENGINES[key]

    def cancel(self) -> None:
        """Calls waiting for the engine raise GenerationCancelled; the one in flight completes (vLLM's
        ``LLM.generate`` cannot be interrupted)."""
        self._epoch += 1

    def usage(self) -> dict[str, int]:
        """Requests generated and the prompt/completion tokens they used."""
        with self.lock:
            return dict(self._usage)

    def sampling_params(self, request: GenRequest, **overrides: Any) -> Any:
        """The ``SamplingParams`` of a request (top_k None -> 0 and min_p None -> 0.0 turn them off)."""
        vllm = _import_vllm()
        params = {"n": request.n, "temperature": request.temperature, "top_p": request.top_p,
                  "top_k": request.top_k or 0, "min_p": request.min_p or 0.0, "seed": request.seed,
                  "max_tokens": request.max_tokens, "stop": list(request.stop or []) or None,
                  "logprobs": request.logprobs}
        params.update(overrides)
        return vllm.SamplingParams(**params)

    def generate(self, requests: Sequence[GenRequest]) -> list[list[Completion]]:
        """Per request, its ``n`` completions: chat requests in one ``chat`` call, raw ones in one ``generate``."""
        for r in requests:
            if (r.messages is None) == (r.prompt is None):
                raise UsageError("a request needs exactly one of messages or prompt")
        results: list[list[Completion]] = [[] for _ in requests]
        chat = [i for i, r in enumerate(requests) if r.messages is not None]
        raw = [i for i, r in enumerate(requests) if r.messages is None]
        epoch = self._epoch
        llm = self.llm
        with self.lock:
            if self._epoch != epoch:
                raise GenerationCancelled(f"generation with '{self.model}' was cancelled")
            if chat:
                outs = llm.chat([requests[i].messages for i in chat],
                                sampling_params=[self.sampling_params(requests[i]) for i in chat], use_tqdm=False)
                for i, out in zip(chat, outs):
                    results[i] = _completions(out, requests[i].logprobs)
            if raw:
                outs = llm.generate([requests[i].prompt for i in raw],
                                    sampling_params=[self.sampling_params(requests[i]) for i in raw], use_tqdm=False)
                for i, out in zip(raw, outs):
                    results[i] = _completions(out, requests[i].logprobs)
            self._usage["requests"] += len(requests)
            for completions in results:  # the prompt is read once per request, whatever its n
                self._usage["prompt_tokens"] += completions[0].extras["prompt_tokens"] if completions else 0
                self._usage["completion_tokens"] += sum(c.extras["completion_tokens"] for c in completions)
        return results

    def encode(self, request: GenRequest) -> list[int]:
        """Prompt token ids: chat ``messages`` through the chat template, or the raw ``prompt``."""
        tok = self.llm.get_tokenizer()
        if request.messages is not None:
            text = tok.apply_chat_template(request.messages, add_generation_prompt=True, tokenize=False)
            return list(tok(text, add_special_tokens=False).input_ids)
        return list(tok(request.prompt).input_ids)

    def score(self, requests: Sequence[GenRequest], continuations: Sequence[str]) -> list[list[float]]:
        """Teacher-forced log-probs of each continuation's tokens after its prompt (``prompt_logprobs``)."""
        if len(requests) != len(continuations):
            raise UsageError(f"score needs one continuation per request: {len(requests)} requests, "
                             f"{len(continuations)} continuations")
        tok = self.llm.get_tokenizer()
        pairs = [(self.encode(r), list(tok(c, add_special_tokens=False).input_ids))
                 for r, c in zip(requests, continuations)]
        params = self.sampling_params(GenRequest(prompt=""), max_tokens=1, prompt_logprobs=0, n=1)
        with self.lock:
            outs = self.llm.generate([{"prompt_token_ids": p + c} for p, c in pairs], sampling_params=params,
                                     use_tqdm=False)
        return [[float(out.prompt_logprobs[len(p) + k][t].logprob) for k, t in enumerate(c)]
                for out, (p, c) in zip(outs, pairs)]

    def label_logprobs(self, request: GenRequest, labels: Sequence[str]) -> dict[str, float]:
        """log P(label | prompt) for each label string: the sum of its teacher-forced token log-probs."""
        scores = self.score([request] * len(labels), labels)
        return {label: float(sum(s)) for label, s in zip(labels, scores)}


register_backend("vllm", VLLMBackend)


def _completions(out: Any, k: int | None) -> list[Completion]:
    prompt_tokens = len(out.prompt_token_ids or [])
    completions = []
    for c in out.outputs:
        completion = Completion(text=c.text, finish_reason=c.finish_reason,
                                extras={"prompt_tokens": prompt_tokens, "completion_tokens": len(c.token_ids)})
        if k is not None and c.logprobs is not None:
            completion.token_logprobs = [float(step[t].logprob) for t, step in zip(c.token_ids, c.logprobs)]
            completion.top_logprobs = [{lp.decoded_token: float(lp.logprob) for lp in step.values()
                                        if lp.rank is not None and lp.rank <= k} for step in c.logprobs]
        completions.append(completion)
    return completions
