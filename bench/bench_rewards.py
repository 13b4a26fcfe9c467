"""Time quadiv's TRL reward functions on groups of 8 and 64 completions, against a per-pair loop of the same formulas.

Run: python bench/bench_rewards.py [REPEATS]
Data: ../shared/data/alpaca_eval_outputs.jsonl `output` texts, as groups of 8 and 64 completions of one prompt.
Each call embeds its completions with the static embedder (no cache: completions are new at every step).
Reference: no released DARLING or CFG-distillation code runs here (DARLING's is veRL with vLLM classifier
servers), so the reference is the formula written as their pseudocode runs it: a Python loop over the
n(n-1)/2 pairs (cosine per pair, union-find per equivalent pair), on the same embeddings.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from quadiv.embed import get_embedder
from quadiv.rewards import DarlingReward, MultiRoleReward, PairwiseDiversityReward, classes, darling_diversity

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def reference(texts: list[str], embedder, threshold: float = 0.9) -> tuple[list[float], list[float]]:
    """(DARLING div, pairwise diversity) by a loop over pairs."""
    X = np.asarray(embedder.encode(texts), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    n = len(texts)
    pairs, distance = [], [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            cos = float(sum(a * b for a, b in zip(X[i], X[j])))
            distance[i][j] = distance[j][i] = 1 - cos
            if cos >= threshold:
                pairs.append((i, j))
    div = darling_diversity(classes(n, pairs)).tolist()
    return div, [sum(row) / (n - 1) for row in distance]


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    texts = [json.loads(line)["output"] for line in DATA.read_text().splitlines()[:64]]
    embedder = get_embedder("static")
    rewards = {"darling": DarlingReward(gather=None, log_metrics=False),
               "pairwise_diversity": PairwiseDiversityReward(gather=None, log_metrics=False),
               "multirole_diversity": MultiRoleReward(log_metrics=False),
               "darling + logged vendi": DarlingReward(gather=None)}
    for reward in rewards.values():
        reward(prompts=["p"] * 8, completions=texts[:8], log_metric=lambda *a: None)  # load the embedder
    print(f"median of {repeats} calls, one group of n completions of one prompt (static embedder, 2 CPUs)")
    for n in (8, 64):
        group, prompts = texts[:n], ["p"] * n
        ref = timed(lambda g=group: reference(g, embedder), max(3, repeats // 4))
        div, pair = reference(group, embedder)
        assert np.allclose(div, rewards["darling"](prompts=prompts, completions=group))
        assert np.allclose(pair, rewards["pairwise_diversity"](prompts=prompts, completions=group), atol=1e-5)
        print(f"n = {n}: per-pair loop (DARLING div + pairwise) {ref * 1e3:.1f} ms")
        for name, reward in rewards.items():
            t = timed(lambda r=reward, p=prompts, g=group: r(prompts=p, completions=g, log_metric=lambda *a: None),
                      repeats)
            ratio = f"  ({ref / t:.1f}x the loop)" if name in ("darling", "pairwise_diversity") else ""
            print(f"  {name:24s} {t * 1e3:7.2f} ms{ratio}")


if __name__ == "__main__":
    main()
