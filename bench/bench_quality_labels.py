"""How each offline scorer ranks the shared AlpacaEval answers against the data's own `quality` labels.

Run: python bench/bench_quality_labels.py
Data: ../shared/data/alpaca_eval_outputs.jsonl (8,050 answers of 10 generators; `quality` is AlpacaEval's
preference against the reference answer, see ../shared/data/README.md). Prints Spearman's rho between each
score and `quality`, overall and per generator. Scorers that need a model (rm:, classifier:, perplexity:,
ifd:, judge:) are not run: no trained model can be downloaded on this machine.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from quadiv.quality import HeuristicScorer, Item

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    quality = np.array([r["quality"] for r in rows], dtype=float)
    generators = np.array([r["generator"] for r in rows])
    items = [Item(r["output"]) for r in rows]
    scores = {}
    for tokenizer in ("whitespace", "datatrove"):
        out = HeuristicScorer(tokenizer=tokenizer).score(items)
        scores[f"heuristic ({tokenizer})"] = out.values
        if tokenizer == "whitespace":
            scores["gopher_quality_words (whitespace)"] = out.columns["gopher_quality_words"]
    names = sorted(set(generators))
    print("| score | overall | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 2) + "|")
    for label, values in scores.items():
        cells = [spearmanr(values, quality).statistic]
        cells += [spearmanr(values[generators == g], quality[generators == g]).statistic for g in names]
        print(f"| {label} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
