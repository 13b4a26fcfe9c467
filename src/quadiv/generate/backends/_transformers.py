"""Local Hugging Face ``transformers`` causal LMs as a generation backend (CPU or GPU).

Requests are batched (left padding) when they share sampling parameters and carry no seed; a seeded
request runs in its own batches after ``torch.manual_seed(seed)``, so its samples do not depend on the
other requests. Chat requests go through the tokenizer's chat template. Log-probs are those of the raw
model output (before temperature/top-k/top-p), as vLLM's default ``raw_logprobs`` (GENERATION.md 12.1).

Beyond :class:`~quadiv.generate._base.Backend`, strategies that need model access (``step_decoder``,
``logits_hook``, ``multi_model_step``: the protocols :class:`~quadiv.generate._base.StepDecoder` and
:class:`~quadiv.generate._base.MultiModelStep`) use ``lm``, ``tokenizer``, :meth:`encode`,
:meth:`companion` and ``GenRequest.extra["logits_processors"]`` (a list of ``(input_ids, scores) ->
scores`` callables that ``generate`` hands to ``model.generate(logits_processor=...)``; such a request
runs as one batch). Calls are serialised by ``lock`` (one model, one device); code that drives ``lm``
directly holds it.
:meth:`cancel` (from another thread) ends the ``generate`` calls in flight at their next token.
"""
from __future__ import annotations

import inspect
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quadiv._deps import require
from quadiv.errors import GenerationCancelled, UsageError
from quadiv.generate._base import Completion, GenRequest, register_backend

CAPABILITIES = frozenset({
    "chat", "raw_completion", "n_samples", "seed", "top_logprobs", "label_logprobs", "prompt_scoring",
    "logits_hook", "multi_model_step", "step_decoder", "beam_search", "top_k", "min_p"})


def import_torch():
    """Import torch and transformers, or raise MissingDependencyError naming the extra."""
    torch = require("torch", "embed", "the transformers backend")
    require("transformers", "embed", "the transformers backend")
    return torch


class TransformersBackend:
    """Generate with a local causal LM: a model directory, or a preloaded ``model`` and ``tokenizer``.

    ``device`` defaults to CUDA when available (a preloaded model stays where it is); ``dtype`` is
    passed to ``from_pretrained`` ("auto" keeps the checkpoint's); ``batch_size`` caps rows per call.
    ``usage()`` counts requests and prompt/completion tokens.
    """

    name = "transformers"
    capabilities = CAPABILITIES

    def __init__(self, model: str | Path | Any, tokenizer: Any | None = None, *, device: str | None = None,
                 dtype: str = "auto", batch_size: int = 16):
        if batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {batch_size}")
        self.device, self.dtype, self.batch_size = device, dtype, batch_size
        self.lock = threading.RLock()
        self._epoch = 0  # bumped by cancel(): a call started in an older epoch stops at its next token
        self._usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
        if isinstance(model, (str, Path)):
            self.model, self._lm, self._tok = str(model), None, tokenizer
        else:
            if tokenizer is None:
                raise UsageError("a preloaded transformers model needs its tokenizer: pass tokenizer=...")
            self.model = getattr(model.config, "name_or_path", "") or type(model).__name__
            self._lm, self._tok = model, tokenizer

    @property
    def lm(self) -> Any:
        """The torch causal LM (loaded on first use)."""
        if self._lm is None:
            self._lm = self._load_model(self.model)
        return self._lm

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer (loaded on first use)."""
        if self._tok is None:
            from transformers import AutoTokenizer

            import_torch()
            try:
                self._tok = AutoTokenizer.from_pretrained(self.model)
            except (OSError, ValueError) as err:
                raise UsageError(f"cannot load the tokenizer of '{self.model}': {_first_line(err)}; give a "
                                 "local model directory that holds its tokenizer files") from None
        return self._tok

    def companion(self, model: str | Path | Any) -> Any:
        """A second causal LM beside this one (STEER's base model): loaded like ``lm``, on its device."""
        if not isinstance(model, (str, Path)):
            return model
        return self._load_model(str(model))

    def _load_model(self, path: str) -> Any:
        torch = import_torch()
        from transformers import AutoModelForCausalLM

        from quadiv.embed import quiet_transformers

        quiet_transformers()
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            model = AutoModelForCausalLM.from_pretrained(path, dtype=self.dtype)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot load causal LM '{path}' with transformers: {_first_line(err)}; give a "
                             "local model directory (config.json + weights)") from None
        return model.to(device).eval()

    def encode(self, request: GenRequest) -> list[int]:
        """Prompt token ids: chat ``messages`` through the chat template, or the raw ``prompt``."""
        if (request.messages is None) == (request.prompt is None):
            raise UsageError("a request needs exactly one of messages or prompt; got "
                             f"{'both' if request.messages is not None else 'neither'}")
        tok = self.tokenizer
        if request.messages is not None:
            if not getattr(tok, "chat_template", None):
                raise UsageError(f"model '{self.model}' has no chat template; send raw prompts or use an "
                                 "instruction-tuned model that has one")
            text = tok.apply_chat_template(request.messages, add_generation_prompt=True, tokenize=False)
            ids = tok(text, add_special_tokens=False).input_ids
        else:
            ids = tok(request.prompt).input_ids
        if not ids:
            raise UsageError("the prompt encodes to no tokens; give a non-empty prompt")
        return list(ids)

    def cancel(self) -> None:
        """Stop the ``generate`` calls in flight at their next token; they raise GenerationCancelled.

        Safe from any thread (it takes no lock); calls that start afterwards run normally.
        """
        self._epoch += 1

    def usage(self) -> dict[str, int]:
        """Requests generated and the prompt/completion tokens they used."""
        with self.lock:
            return dict(self._usage)

    def generate(self, requests: Sequence[GenRequest]) -> list[list[Completion]]:
        """Per request, its ``n`` completions, in request order."""
        epoch = self._epoch  # before the lock and the model's loading: a cancel() while they wait counts
        with self.lock:
            results = self._generate(requests, epoch)
            self._usage["requests"] += len(requests)
            for c in (c for r in results for c in r):
                self._usage["prompt_tokens"] += c.extras["prompt_tokens"]
                self._usage["completion_tokens"] += c.extras["completion_tokens"]
        return results

    def _generate(self, requests: Sequence[GenRequest], epoch: int) -> list[list[Completion]]:
        torch = import_torch()
        results: list[list[Completion]] = [[] for _ in requests]
        for group in _plan(requests):
            first = requests[group[0]]
            if first.seed is not None:
                torch.manual_seed(first.seed)
            rows = [(i, self.encode(requests[i])) for i in group for _ in range(requests[i].n)]
            step = len(rows) if first.extra.get("logits_processors") else self.batch_size
            for start in range(0, len(rows), step):
                chunk = rows[start:start + step]
                for (i, _), completion in zip(chunk, self._generate_rows(first, [p for _, p in chunk], epoch)):
                    results[i].append(completion)
        return results

    def _generate_rows(self, req: GenRequest, prompts: list[list[int]], epoch: int) -> list[Completion]:
        torch = import_torch()
        from transformers import LogitsProcessorList, StoppingCriteriaList

        tok, lm = self.tokenizer, self.lm
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        ids, mask = left_pad(prompts, pad_id, torch)
        kwargs = self._generate_kwargs(req, pad_id)
        processors = LogitsProcessorList(req.extra.get("logits_processors") or [])
        stops = StoppingCriteriaList([StopStrings(tok, req.stop, ids.shape[1])] if req.stop else [])
        stops.append(lambda input_ids, scores, **_: input_ids.new_full((input_ids.shape[0],), self._epoch != epoch,
                                                                        dtype=torch.bool))
        with torch.no_grad():
            out = lm.generate(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device),
                              logits_processor=processors, stopping_criteria=stops, **kwargs)
        if self._epoch != epoch:
            raise GenerationCancelled(f"generation with '{self.model}' was cancelled")
        new = out.sequences[:, ids.shape[1]:].tolist()
        logp = torch.log_softmax(torch.stack(out.logits, 1).float(), -1) if req.logprobs is not None else None
        eos = set(_as_list(kwargs.get("eos_token_id", lm.generation_config.eos_token_id)))
        return [self._completion(req, row, j, len(prompts[j]), eos, pad_id, logp) for j, row in enumerate(new)]

    def _generate_kwargs(self, req: GenRequest, pad_id: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": req.max_tokens, "pad_token_id": pad_id,
                                  "return_dict_in_generate": True, "output_logits": req.logprobs is not None}
        if req.temperature > 0:
            kwargs.update(do_sample=True, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k or 0)
            if req.min_p:
                kwargs["min_p"] = req.min_p
        else:
            kwargs["do_sample"] = False
        if self.lm.generation_config.eos_token_id is None and self.tokenizer.eos_token_id is not None:
            kwargs["eos_token_id"] = self.tokenizer.eos_token_id
        return kwargs

    def _completion(self, req: GenRequest, row: list[int], j: int, prompt_len: int, eos: set[int],
                    pad_id: int, logp: Any) -> Completion:
        end = next((k for k, t in enumerate(row) if t in eos), None)
        tokens = row if end is None else row[:end]
        while end is None and tokens and tokens[-1] == pad_id:
            tokens = tokens[:-1]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        cut = min((text.find(s) for s in req.stop or () if s in text), default=-1)
        if cut >= 0:
            text = text[:cut]
        finish = "stop" if end is not None or cut >= 0 or len(tokens) < req.max_tokens else "length"
        completion = Completion(text=text, finish_reason=finish,
                                extras={"prompt_tokens": prompt_len, "completion_tokens": len(tokens)})
        if logp is not None:
            completion.token_logprobs = [float(logp[j, k, t]) for k, t in enumerate(tokens)]
            completion.top_logprobs = [self._top(logp[j, k], req.logprobs) for k in range(len(tokens))]
        return completion

    def _top(self, row: Any, k: int) -> dict[str, float]:
        if k <= 0:
            return {}
        values, ids = row.topk(k)
        top: dict[str, float] = {}
        for v, i in zip(values.tolist(), ids.tolist()):
            top.setdefault(self.tokenizer.decode([i]), v)
        return top

    def score(self, requests: Sequence[GenRequest], continuations: Sequence[str]) -> list[list[float]]:
        """Teacher-forced log-probs of each continuation's tokens after its request's prompt.

        log p(c_j | prompt, c_<j) for every token c_j of the continuation (prompt_scoring).
        """
        torch = import_torch()
        if len(requests) != len(continuations):
            raise UsageError(f"score needs one continuation per request: {len(requests)} requests, "
                             f"{len(continuations)} continuations")
        pairs = [(self.encode(r), list(self.tokenizer(c, add_special_tokens=False).input_ids))
                 for r, c in zip(requests, continuations)]
        out: list[list[float]] = []
        with self.lock:
            for start in range(0, len(pairs), self.batch_size):
                out.extend(self._score_rows(pairs[start:start + self.batch_size], torch))
        return out

    def _score_rows(self, pairs: list[tuple[list[int], list[int]]], torch: Any) -> list[list[float]]:
        lm = self.lm
        seqs = [p + c for p, c in pairs]
        width = max(map(len, seqs))
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, s in enumerate(seqs):
            ids[j, :len(s)], mask[j, :len(s)] = torch.tensor(s), 1
        with torch.no_grad():
            logits = lm(input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device)).logits
        logp = torch.log_softmax(logits.float(), -1).cpu()
        return [[float(logp[j, len(p) + k - 1, t]) for k, t in enumerate(c)] for j, (p, c) in enumerate(pairs)]

    def label_logprobs(self, request: GenRequest, labels: Sequence[str]) -> dict[str, float]:
        """log P(label | prompt) for each label string: the sum of its teacher-forced token log-probs."""
        scores = self.score([request] * len(labels), labels)
        return {label: float(sum(s)) for label, s in zip(labels, scores)}


class StopStrings:
    """Stopping criterion: a row is done once its decoded continuation contains a stop string.

    transformers' own ``stop_strings`` needs a tokenizer whose tokens decode with a static prefix,
    which word-level and some custom tokenizers lack; decoding the continuation works for any.
    """

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int):
        self.tokenizer, self.stops, self.prompt_len = tokenizer, list(stops), prompt_len

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        done = [any(s in text for s in self.stops) for text in texts]
        return input_ids.new_tensor(done, dtype=bool)


register_backend("transformers", TransformersBackend)


def _plan(requests: Sequence[GenRequest]) -> list[list[int]]:
    """Request indices grouped into calls: seeded or hooked requests alone, the rest by parameters."""
    groups: dict[tuple, list[int]] = {}
    alone: list[list[int]] = []
    for i, r in enumerate(requests):
        if r.seed is not None or r.extra.get("logits_processors"):
            alone.append([i])
        else:
            key = (r.temperature, r.top_p, r.top_k, r.min_p, r.max_tokens, tuple(r.stop or ()), r.logprobs)
            groups.setdefault(key, []).append(i)
    return alone + list(groups.values())


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int, torch: Any) -> tuple[Any, Any]:
    """(ids, attention_mask) with the sequences left-padded to one width."""
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for j, s in enumerate(seqs):
        if s:
            ids[j, width - len(s):], mask[j, width - len(s):] = torch.tensor(list(s)), 1
    return ids, mask


def accepts(model: Any, argument: str) -> bool:
    """Whether ``model.forward`` takes ``argument`` (e.g. ``logits_to_keep``)."""
    return argument in inspect.signature(model.forward).parameters


def _as_list(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
