"""DARLING's learned partition: which completions of a group say the same thing, as equivalence classes.

Li et al. 2025, "Jointly Reinforcing Diversity and Quality in Language Model Generations" (arXiv
2509.02534, sec. 3.1; ``facebookresearch/darling`` ``partition_reward_vllm_serve.py``): two responses
of at most 5 words are equivalent when twice their unigram overlap is at least the longer length;
other pairs are judged by a pair classifier (P(equivalent) > 0.5). Union-find over the equivalent
pairs gives the classes. Here the judge of a long pair is a sequence-classification model, an
embedding-similarity threshold, or an LLM judge through quadiv's generation backends.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from quadiv.errors import UsageError

SHORT_WORDS = 5
EQUIVALENCE_PROMPT = ("Do these two responses say the same thing (the same answer or content, even if worded "
                      "differently)?\n\nResponse A:\n{instruction}\n\nResponse B:\n{response}\n\nAnswer yes or no.\n"
                      "Answer:")


def short_equivalent(a: str, b: str) -> bool | None:
    """DARLING's rule for short answers (both <= 5 words): 2 |unigram overlap| >= the longer length; None if long."""
    wa, wb = a.lower().split(), b.lower().split()
    if len(wa) > SHORT_WORDS or len(wb) > SHORT_WORDS:
        return None
    overlap = sum((Counter(wa) & Counter(wb)).values())
    return 2 * overlap >= max(len(wa), len(wb))


def classes(n: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """Union-find over equivalent ``pairs`` of 0..n-1: each item's class size |C(i)|."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i, j in pairs:
        parent[root(i)] = root(j)
    roots = [root(i) for i in range(n)]
    sizes = Counter(roots)
    return np.array([sizes[r] for r in roots])


class EmbeddingEquivalence:
    """Long pairs are equivalent when the cosine similarity of their embeddings is at least ``threshold``."""

    def __init__(self, embed: Any, threshold: float = 0.9):
        if not -1 <= threshold <= 1:
            raise UsageError(f"`threshold` is a cosine similarity in [-1, 1]; got {threshold}")
        self.embed, self.threshold = embed, threshold

    def judge(self, texts: list[str], pairs: list[tuple[int, int]], X: np.ndarray | None = None) -> list[bool]:
        X = self.embed(texts) if X is None else X
        return [float(X[i] @ X[j]) >= self.threshold for i, j in pairs]


class ClassifierEquivalence:
    """A sequence-classification model on ``[CLS] a [SEP] b [SEP]``: equivalent when P(equivalent) > 0.5.

    Two labels: the probability of label 1; one label: its sigmoid. Each side is truncated to ``max_length``
    tokens together (longest first), as DARLING truncates each response to about 2k tokens.
    """

    def __init__(self, model: str, max_length: int = 4096, batch_size: int = 32, device: str | None = None):
        from quadiv._deps import require

        torch = require("torch", "models", "the DARLING pair classifier")
        transformers = require("transformers", "models", "the DARLING pair classifier")
        self.torch, self.max_length, self.batch_size = torch, max_length, batch_size
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        self.model = transformers.AutoModelForSequenceClassification.from_pretrained(model).eval()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)

    def judge(self, texts: list[str], pairs: list[tuple[int, int]], X: np.ndarray | None = None) -> list[bool]:
        out: list[bool] = []
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start:start + self.batch_size]
            encoded = self.tokenizer([texts[i] for i, _ in chunk], [texts[j] for _, j in chunk], truncation=True,
                                     max_length=self.max_length, padding=True, return_tensors="pt").to(self.device)
            with self.torch.no_grad():
                logits = self.model(**encoded).logits.float()
            p = logits.softmax(-1)[:, 1] if logits.shape[-1] > 1 else logits[:, 0].sigmoid()
            out += (p > 0.5).tolist()
        return out


class JudgeEquivalence:
    """An LLM judge (``judge:<model>`` in yes/no mode) asked whether two responses say the same thing."""

    def __init__(self, model: str, prompt: str = EQUIVALENCE_PROMPT, **params: Any):
        from quadiv.quality import get_scorer

        self.scorer = get_scorer(f"judge:{model}", mode="yesno", prompt=prompt, **params)

    def judge(self, texts: list[str], pairs: list[tuple[int, int]], X: np.ndarray | None = None) -> list[bool]:
        from quadiv.quality import Item

        values = self.scorer.score([Item(texts[j], texts[i]) for i, j in pairs]).values
        return [bool(v > 0.5) for v in values]


def partition(texts: list[str], equivalence: Any, X: np.ndarray | None = None) -> np.ndarray:
    """|C(i)| for each text: short pairs by DARLING's rule, the others by ``equivalence``, then union-find."""
    n = len(texts)
    pairs, asked = [], []
    for i in range(n):
        for j in range(i + 1, n):
            rule = short_equivalent(texts[i], texts[j])
            if rule is None:
                asked.append((i, j))
            elif rule:
                pairs.append((i, j))
    if asked:
        pairs += [p for p, same in zip(asked, equivalence.judge(texts, asked, X)) if same]
    return classes(n, pairs)
