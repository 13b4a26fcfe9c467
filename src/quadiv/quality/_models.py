"""Reward models (``rm:<dir>``) and quality classifiers (``classifier:<dir>``) as scorers.

``rm`` follows RewardBench's default pipeline (allenai/reward-bench ``rewardbench/models/__init__.py``
"default", ``utils.py::prepare_dialogue_from_tokenizer``; QUALITY.md §2.1): an
``AutoModelForSequenceClassification`` with one output, the (instruction, response) pair rendered by the
tokenizer's chat template, truncated to ``max_length`` (2048 there), score = the logit. ``classifier``
follows the FineWeb-Edu classifier (huggingface/cosmopedia ``classification/run_edu_bert.py``; §2.2):
score = the regression logit, ``int_score = int(round(max(0, min(score, 5))))``, kept when the score is at
least a threshold (NeMo Curator's 2.5); a classification head gives p(positive label) or the expected label.
This module also registers ``perplexity``, ``ifd`` and ``fasttext`` (from their own modules).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv.errors import InputError
from quadiv.quality._base import Item, Scores, register_scorer
from quadiv.quality._fasttext import FastTextScorer
from quadiv.quality._hf import (
    SEQUENCE_CLASSIFICATION,
    chat_text,
    check_batching,
    fingerprint,
    import_torch,
    load,
    model_dir,
    pad,
    pick_device,
    settings,
)
from quadiv.quality._perplexity import IFDScorer, PerplexityScorer


class _SequenceClassifier:
    """Shared loading and batched forward pass of a local sequence-classification model.

    Batches are padded on the tokenizer's padding side; transformers pools the last non-pad token (decoder
    models, found from ``pad_token_id``) or the first token (encoders), so a batch gives the scores of
    one-by-one calls. (Left padding shifts absolute positions: rotary decoders are unaffected, and encoder
    tokenizers pad on the right by default.)
    """

    higher_is_better, needs_instruction = True, False

    def __init__(self, path: str | Path, *, batch_size: int, max_length: int, device: str | None, dtype: str,
                 trust_remote_code: bool):
        check_batching(batch_size, max_length)
        self.path, self.config = model_dir(path, SEQUENCE_CLASSIFICATION)
        self.batch_size, self.max_length, self.dtype = batch_size, max_length, dtype
        self.trust_remote_code = trust_remote_code
        self._device = device
        self._model = self._tok = None
        self._identity = f"{self.path}@{fingerprint(self.path)}"

    @property
    def uses_gpu(self) -> bool:
        """Whether a task running it should hold a GPU: unless it was told, or loaded, elsewhere (``device``)."""
        return (self._device or "cuda").startswith("cuda")

    def _loaded(self) -> tuple[object, object]:
        if self._model is None:
            self._device = pick_device(self._device)
            self._model, self._tok = load(self.path, SEQUENCE_CLASSIFICATION, device=self._device,
                                          dtype=self.dtype, trust_remote_code=self.trust_remote_code)
        return self._model, self._tok

    def _ids(self, item: Item) -> list[int]:
        """Token ids of one item: its text alone, truncated (the reward model formats pairs instead)."""
        _, tok = self._loaded()
        return tok(item.text, truncation=True, max_length=self.max_length).input_ids

    def _logits(self, items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
        """(logits (n, num_labels) float64, scored mask): rows of items that encode to no token stay NaN."""
        torch = import_torch(f"scoring with {self.path}")
        model, tok = self._loaded()
        rows = [self._ids(it) for it in items]
        ok = np.array([len(r) > 0 for r in rows], dtype=bool)
        out = np.full((len(items), model.config.num_labels), np.nan)
        todo = [r for r in rows if r]
        if todo:
            ids, mask = pad(tok, todo, self._device)
            with torch.inference_mode():
                logits = model(input_ids=ids, attention_mask=mask).logits
            out[ok] = logits.float().cpu().numpy()
        return out, ok


class RewardModelScorer(_SequenceClassifier):
    """A reward model's logit for each (instruction, response): RewardBench's default pipeline.

    With an instruction, the text is ``apply_chat_template([user: instruction, assistant: text])`` tokenised
    without adding special tokens again (the template holds them: RewardBench instead masks the doubled
    BOS); without one, the text alone, tokenised with the tokenizer's own special tokens. Scores are
    unbounded logits, comparable within one reward model only.

    Parameters:
        batch_size: items per forward pass.
        max_length: truncate each conversation to this many tokens (RewardBench: 2048).
        device: torch device; default CUDA when available, else CPU.
        dtype: weights' dtype passed to from_pretrained ("auto" keeps the checkpoint's).
        trust_remote_code: allow the model directory's own modelling code (e.g. ArmoRM).
    """

    column = "rm"

    def __init__(self, path: str | Path, batch_size: int = 8, max_length: int = 2048, device: str | None = None,
                 dtype: str = "auto", trust_remote_code: bool = False):
        super().__init__(path, batch_size=batch_size, max_length=max_length, device=device, dtype=dtype,
                         trust_remote_code=trust_remote_code)
        labels = self.config.get("num_labels", len(self.config.get("id2label") or {0: 0}))
        if labels != 1:
            raise InputError(f"a reward model has one output, this one has {labels} labels", path=str(self.path),
                             fix=f"score with 'classifier:{self.path}' instead")
        self.name = f"rm({self._identity};{settings(max_length=max_length, dtype=dtype)})"

    def _ids(self, item: Item) -> list[int]:
        _, tok = self._loaded()
        if item.instruction is None:
            return tok(item.text, truncation=True, max_length=self.max_length).input_ids
        text = chat_text(tok, self.path, item.instruction, item.text)
        return tok(text, add_special_tokens=False, truncation=True, max_length=self.max_length).input_ids

    def score(self, items: Sequence[Item]) -> Scores:
        """The reward logit of each item (NaN where it encodes to no token)."""
        logits, _ = self._logits(items)
        return Scores(logits[:, 0])


def edu_int_score(values: np.ndarray) -> np.ndarray:
    """FineWeb-Edu's ``int(round(max(0, min(score, 5))))`` elementwise (Python's round: half to even); NaN stays."""
    return np.round(np.clip(np.asarray(values, dtype=np.float64), 0.0, 5.0))


class ClassifierScorer(_SequenceClassifier):
    """A quality classifier on the text alone (the instruction is not shown): FineWeb-Edu's pattern.

    A regression head (one output) gives score = its logit, ``classifier_int_score`` = the score clamped to
    [0, 5] and rounded, ``classifier_keep`` = score >= threshold (default 2.5, NeMo Curator's
    ``high_quality``; FineWeb-Edu kept ``int_score >= 3``). A classification head gives p(positive label)
    (softmax; sigmoid for multi-label heads), default the label with id 1 of a two-label head, or, for more
    labels and no positive label named, the expected label id ``sum_k k p_k``; ``classifier_label`` is the
    most probable label's name and ``classifier_keep`` is score >= threshold (default 0.5 for p(positive),
    no keep column for the expected label unless a threshold is given).

    Parameters:
        batch_size: items per forward pass.
        max_length: truncate each text to this many tokens (FineWeb-Edu: 512).
        threshold: keep an item whose score is at least this (see above for the defaults).
        positive_label: the label whose probability is the score: a name in config.json's id2label or an id.
        device: torch device; default CUDA when available, else CPU.
        dtype: weights' dtype passed to from_pretrained ("auto" keeps the checkpoint's).
        trust_remote_code: allow the model directory's own modelling code.
    """

    column = "classifier"

    def __init__(self, path: str | Path, batch_size: int = 32, max_length: int = 512,
                 threshold: float | None = None, positive_label: str | int | None = None,
                 device: str | None = None, dtype: str = "auto", trust_remote_code: bool = False):
        super().__init__(path, batch_size=batch_size, max_length=max_length, device=device, dtype=dtype,
                         trust_remote_code=trust_remote_code)
        id2label = {int(k): str(v) for k, v in (self.config.get("id2label") or {}).items()}
        self.num_labels = int(self.config.get("num_labels", len(id2label) or 2))
        self.labels = [id2label.get(i, f"LABEL_{i}") for i in range(self.num_labels)]
        self.problem_type = self.config.get("problem_type")
        self.regression = self.num_labels == 1
        if self.problem_type == "regression" and not self.regression:
            raise InputError(f"a regression head with {self.num_labels} outputs has no single score",
                             path=str(self.path), fix="give a model with one output or a classification head")
        self.positive = self._positive(positive_label)
        if threshold is None:
            threshold = 2.5 if self.regression else (0.5 if self.positive is not None else None)
        self.threshold = threshold
        self.name = (f"classifier({self._identity};{settings(max_length=max_length, dtype=dtype)},"
                     f"{settings(threshold=threshold, positive=self.positive)})")

    def _positive(self, label: str | int | None) -> int | None:
        """The id of the positive label: named, given as an id, label 1 of two, or None (expected label)."""
        if self.regression:
            if label is not None:
                raise InputError("positive_label needs a classification head; this model is a regression head",
                                 path=str(self.path), fix="drop positive_label")
            return None
        if label is None:
            return 1 if self.num_labels == 2 else None
        if str(label) in self.labels:
            return self.labels.index(str(label))
        if str(label).isdigit() and int(label) < self.num_labels:
            return int(label)
        raise InputError(f"positive_label {label!r} is not a label of this model ({', '.join(self.labels)})",
                         path=str(self.path), fix="name one of its labels or give a label id")

    def score(self, items: Sequence[Item]) -> Scores:
        """The score of each item plus ``classifier_int_score`` or ``classifier_label`` and ``classifier_keep``."""
        logits, ok = self._logits(items)
        if self.regression:
            values = logits[:, 0]
            columns = {"classifier_int_score": edu_int_score(values)}
        else:
            probs = _probabilities(logits, multi_label=self.problem_type == "multi_label_classification")
            values = probs[:, self.positive] if self.positive is not None else probs @ np.arange(self.num_labels)
            best = np.nan_to_num(probs, nan=-1.0).argmax(axis=1)
            columns = {"classifier_label": np.array([self.labels[b] if o else None for b, o in zip(best, ok)],
                                                    dtype=object)}
        if self.threshold is not None:
            columns["classifier_keep"] = np.where(ok, values >= self.threshold, False)
        return Scores(values, columns)


def _probabilities(logits: np.ndarray, *, multi_label: bool) -> np.ndarray:
    """Softmax over labels (sigmoid per label for a multi-label head), row by row."""
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


register_scorer("rm", RewardModelScorer, argument="a reward model directory")
register_scorer("classifier", ClassifierScorer, argument="a classifier model directory")
register_scorer("perplexity", PerplexityScorer, argument="a causal LM directory")
register_scorer("ifd", IFDScorer, argument="a causal LM directory")
register_scorer("fasttext", FastTextScorer, argument="a fastText model .bin")
