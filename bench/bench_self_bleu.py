"""Time quadiv's self_bleu against the naive sacrebleu loop on the same AlpacaEval answers.

The reference is what papers' scripts do: for each text, ``sacrebleu.sentence_bleu(text, others)``
with all other texts as references (O(n^2) n-gram work). quadiv computes the same number from
top-2 n-gram counts in near-linear time. Both must agree to 1e-9.

    python bench/bench_self_bleu.py            # n = 300 answers
    python bench/bench_self_bleu.py --n 1000
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import sacrebleu

from quadiv.measure._lexical import self_bleu

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def naive_self_bleu(texts: list[str]) -> float:
    scores = [
        sacrebleu.sentence_bleu(text, texts[:i] + texts[i + 1 :]).score / 100 for i, text in enumerate(texts)
    ]
    return float(np.mean(scores))


def timed(fn, texts: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    value = fn(texts)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of answers (default 300)")
    parser.add_argument("--data", type=Path, default=DATA, help="AlpacaEval outputs JSONL")
    args = parser.parse_args()
    with args.data.open() as f:
        rows = [json.loads(line) for line in f]
    step = max(len(rows) // args.n, 1)  # spread over generators and instructions
    texts = [row["output"] for row in rows[::step]][: args.n]

    ours, t_ours = timed(self_bleu, texts)
    ref, t_ref = timed(naive_self_bleu, texts)
    print(f"n = {len(texts)} answers from {args.data.name}")
    print(f"quadiv self_bleu        {ours:.12f}  {t_ours:8.3f} s")
    print(f"sacrebleu naive loop    {ref:.12f}  {t_ref:8.3f} s")
    print(f"|difference| = {abs(ours - ref):.2e}; speed-up = {t_ref / t_ours:.1f}x")


if __name__ == "__main__":
    main()
