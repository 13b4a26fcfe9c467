"""``fasttext:<model.bin>``: the probability a fastText classifier gives the high-quality label (DCLM's filter).

DCLM (Li et al. 2024, "DataComp-LM", arXiv 2406.11794, §4.4; ``baselines/mappers/enrichers/
quality_prediction_enrichers_calc_fasttext.py``): the text's lines are joined with spaces, the model
predicts, and the score is p(``__label__hq``). Reading every label's probability (``k=-1``) gives the same
value as DCLM's 1 - p(``__label__cc``) for its two-label models, and works for models with more labels.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv._deps import require
from quadiv.errors import InputError
from quadiv.quality._base import Item, Scores
from quadiv.quality._hf import fingerprint


class FastTextScorer:
    """p(label) under a fastText supervised classifier, such as DCLM's OpenHermes/ELI5-vs-RefinedWeb model.

    Parameters:
        label: the label whose probability is the score (DCLM: __label__hq).
        batch_size: texts per predict call.
    """

    column, higher_is_better, needs_instruction = "fasttext", True, False

    def __init__(self, path: str | Path, label: str = "__label__hq", batch_size: int = 4096):
        fasttext = require("fasttext", "fasttext", "the fasttext scorer", package="fasttext-numpy2-wheel")
        self.path = Path(path).expanduser().resolve()
        fix = "give the path of a fastText supervised model (.bin)"
        if not self.path.is_file():
            raise InputError("model file does not exist", path=str(self.path), fix=fix)
        try:
            self._model = fasttext.load_model(str(self.path))
        except ValueError as err:
            raise InputError(f"not a fastText model: {err}", path=str(self.path), fix=fix) from None
        labels = self._model.get_labels()
        if label not in labels:
            raise InputError(f"the model has no label '{label}' (it has {', '.join(labels[:10])})",
                             path=str(self.path), fix="name one of its labels with the label parameter")
        self.label, self.batch_size = label, batch_size
        self.name = f"fasttext({self.path}@{fingerprint(self.path)};label={label})"

    def score(self, items: Sequence[Item]) -> Scores:
        """p(label) of each text, its lines joined by spaces as DCLM does."""
        texts = [" ".join(item.text.strip().splitlines()) for item in items]
        labels, probs = self._model.predict(texts, k=-1)
        return Scores(np.array([dict(zip(ls, ps)).get(self.label, 0.0) for ls, ps in zip(labels, probs)]))
