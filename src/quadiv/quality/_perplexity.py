"""Likelihood scores with a local causal LM: response-masked perplexity (``perplexity:<dir>``) and IFD (``ifd:<dir>``).

Perplexity follows data-juicer's ``llm_perplexity_filter`` (QUALITY.md §2.3) with the fix the study
recommends: the (instruction, response) pair goes through the chat template and the prompt is masked by
token offsets, so only the response's tokens are scored; ppl = exp(mean token NLL). IFD follows Cherry
(Li et al. 2024, "From Quantity to Quality", NAACL, arXiv 2308.12032, Eq. 3; ``cherry_seletion/data_by_IFD.py``):
IFD = mean NLL of the response given the instruction / mean NLL of the response alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv.errors import InputError
from quadiv.quality import _hf
from quadiv.quality._base import Item, Scores


class _CausalLM:
    """A local causal LM and the summed NLL of chosen tokens of token-id rows, batched with right padding.

    Right padding keeps every real token's context and positions as in a one-by-one call (pads come after it
    and a causal mask never looks ahead), so a batch gives one-by-one scores.

    Parameters:
        batch_size: items per forward pass.
        max_length: truncate each conversation to this many tokens (default: 1024; ifd: 512, Cherry's).
        device: torch device; default CUDA when available, else CPU.
        dtype: weights' dtype passed to from_pretrained ("auto" keeps the checkpoint's).
        trust_remote_code: allow the model directory's own modelling code.
    """

    column = "causal_lm"
    default_max_length = 1024

    def __init__(self, path: str | Path, batch_size: int = 8, max_length: int | None = None,
                 device: str | None = None, dtype: str = "auto", trust_remote_code: bool = False):
        max_length = max_length or self.default_max_length
        _hf.check_batching(batch_size, max_length)
        self.path, _ = _hf.model_dir(path, _hf.CAUSAL_LM)
        self.batch_size, self.max_length, self.dtype = batch_size, max_length, dtype
        self.trust_remote_code = trust_remote_code
        self._device, self._model, self._tok = device, None, None
        settings = _hf.settings(max_length=max_length, dtype=dtype)
        self.name = f"{self.column}({self.path}@{_hf.fingerprint(self.path)};{settings})"

    @property
    def uses_gpu(self) -> bool:
        """Whether a task running it should hold a GPU: unless it was told, or loaded, elsewhere (``device``)."""
        return (self._device or "cuda").startswith("cuda")

    def _loaded(self):
        if self._model is None:
            self._device = _hf.pick_device(self._device)
            self._model, self._tok = _hf.load(self.path, _hf.CAUSAL_LM, device=self._device, dtype=self.dtype,
                                          trust_remote_code=self.trust_remote_code)
            if not self._tok.is_fast:
                raise InputError("the tokenizer is not a fast tokenizer, so the response's tokens cannot be "
                                 "found by offsets", path=str(self.path), fix="save a tokenizer.json with the model")
        return self._model, self._tok

    def response_tokens(self, text: str, instruction: str | None) -> tuple[list[int], int]:
        """(token ids, index of the response's first token): the chat-templated pair, or the text alone."""
        _, tok = self._loaded()
        if instruction is None:  # the text after BOS, so that its first token is scored too
            ids = tok(text, truncation=True, max_length=self.max_length).input_ids
            bos = tok.bos_token_id
            return ([bos, *ids][:self.max_length] if bos is not None and ids[:1] != [bos] else ids), 1
        full = _hf.chat_text(tok, self.path, instruction, text)
        encoded = tok(full, add_special_tokens=False, truncation=True, max_length=self.max_length,
                      return_offsets_mapping=True)
        begin = full.rfind(text) if text else len(full)
        start = next((i for i, (_, end) in enumerate(encoded["offset_mapping"]) if end > begin),
                     len(encoded.input_ids))
        return encoded.input_ids, max(start, 1)

    def mean_nll(self, rows: Sequence[tuple[list[int], int]]) -> np.ndarray:
        """Mean NLL of tokens ``start:`` of each row (each predicted from all before it); NaN with none."""
        torch = _hf.import_torch(f"scoring with {self.path}")
        model, tok = self._loaded()
        out = np.full(len(rows), np.nan)
        todo = [i for i, (ids, start) in enumerate(rows) if start < len(ids)]
        if not todo:
            return out
        width = max(len(rows[i][0]) for i in todo)
        ids = torch.full((len(todo), width), tok.pad_token_id, dtype=torch.long)
        scored = torch.zeros((len(todo), width), dtype=torch.bool)
        attention = torch.zeros((len(todo), width), dtype=torch.long)
        for r, i in enumerate(todo):
            tokens, start = rows[i]
            ids[r, :len(tokens)] = torch.tensor(tokens)
            attention[r, :len(tokens)] = 1
            scored[r, start:len(tokens)] = True
        with torch.inference_mode():
            logits = model(input_ids=ids.to(self._device), attention_mask=attention.to(self._device)).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1).cpu()
        nll = -logp.gather(-1, ids[:, 1:, None])[..., 0]
        mask = scored[:, 1:]
        out[todo] = ((nll * mask).sum(dim=1) / mask.sum(dim=1)).numpy()
        return out


class PerplexityScorer(_CausalLM):
    """Perplexity of each response under a local causal LM, exp(mean token NLL); lower is better.

    With an instruction the pair is rendered by the tokenizer's chat template and only the response's tokens
    count; without one, every token of the text (after the BOS token the tokenizer defines). Column:
    ``perplexity_nll`` (mean NLL in nats). At random initialisation the perplexity is about the vocabulary size.
    """

    column, higher_is_better, needs_instruction = "perplexity", False, False

    def score(self, items: Sequence[Item]) -> Scores:
        """exp(mean NLL) of each response (NaN where no response token is left after truncation)."""
        nll = self.mean_nll([self.response_tokens(it.text, it.instruction) for it in items])
        return Scores(np.exp(nll), {"perplexity_nll": nll})


class IFDScorer(_CausalLM):
    """Instruction-following difficulty: NLL(response | instruction) / NLL(response), Cherry's IFD.

    The conditioned loss scores the response's tokens in the chat-templated pair; the direct loss scores the
    response alone (with the tokenizer's own special tokens). IFD near 1 means the instruction does not help
    predict the response; Cherry keeps the highest IFD and drops IFD > 1 (``ifd_keep``). Columns:
    ``ifd_conditioned_nll``, ``ifd_direct_nll``. At random initialisation IFD is about 1.
    """

    column, higher_is_better, needs_instruction = "ifd", True, True
    default_max_length = 512

    def score(self, items: Sequence[Item]) -> Scores:
        """IFD of each (instruction, response) item; NaN without an instruction or response tokens."""
        conditioned = self.mean_nll([self.response_tokens(it.text, it.instruction) if it.instruction is not None
                                     else ([], 1) for it in items])
        direct = self.mean_nll([self.response_tokens(it.text, None) for it in items])
        with np.errstate(invalid="ignore", divide="ignore"):
            ifd = conditioned / direct
        return Scores(ifd, {"ifd_keep": np.where(np.isnan(ifd), False, ifd <= 1.0),
                            "ifd_conditioned_nll": conditioned, "ifd_direct_nll": direct})
