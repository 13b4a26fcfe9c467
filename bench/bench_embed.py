"""Benchmark the static embedder against all-MiniLM-L6-v2 on the 8,050 AlpacaEval outputs.

(a) Throughput: sentences per second of ``static`` and ``minilm`` (sentence-transformers) on the same
    texts, and the ratio; the embedding cache's bulk lookup of 8,000 stored rows.
(b) Agreement: Spearman rank correlation between the two embedders of the per-group Vendi score
    (order 1, cosine kernel), groups = generator (10 groups of 805) and instruction (805 groups of 10).

    python bench/bench_embed.py                         # everything (minilm on CPU takes minutes)
    python bench/bench_embed.py --minilm-npy bench/out/minilm.npy   # reuse / save minilm vectors
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

from quadiv.embed import EmbeddingCache, StaticEmbedder, embed, get_embedder
from quadiv.measure._vendi import vendi

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def timed(fn, *args):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def static_part(texts: list[str], repeat: int) -> np.ndarray:
    static = StaticEmbedder()
    if not (static.directory / "meta.json").is_file():
        _, seconds = timed(static.encode, ["distil"])
        print(f"static: distilled once in {seconds:.1f} s into {static.directory}")
    static.encode(texts[:100])
    best = min(timed(static.encode, texts)[1] for _ in range(repeat))
    short = [t.split("\n")[0][:200] for t in texts]
    best_short = min(timed(static.encode, short)[1] for _ in range(repeat))
    print(
        f"static: {len(texts) / best:,.0f} outputs/s (full outputs), "
        f"{len(short) / best_short:,.0f} texts/s (first line, <= 200 chars)"
    )
    return static.encode(texts), best


def minilm_part(texts: list[str], npy: Path | None) -> tuple[np.ndarray, float | None]:
    if npy is not None and npy.is_file():
        print(f"minilm: vectors loaded from {npy} (not timed)")
        return np.load(npy), None
    model = get_embedder("minilm")
    model.encode(texts[:64])
    Y, seconds = timed(model.encode, texts)
    print(f"minilm: {len(texts) / seconds:,.1f} outputs/s on {model._load().device}")
    if npy is not None:
        npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(npy, Y)
    return Y, seconds


def cache_part(texts: list[str]) -> None:
    static = StaticEmbedder()
    rows = texts[:8000]
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddingCache(static.name, Path(tmp) / "embeddings.sqlite")
        _, cold = timed(lambda: embed(rows, static, cache=store))
        _, warm = timed(lambda: embed(rows, static, cache=store))
        store.close()
    print(
        f"cache: first embed() of 8,000 outputs {cold:.2f} s (encode + store), "
        f"second (all cached, bulk lookup) {warm:.3f} s"
    )


def agreement(X: np.ndarray, Y: np.ndarray, labels: list[str], what: str) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        groups[label].append(i)
    vs_x = np.array([vendi(X[idx]) for idx in groups.values()])
    vs_y = np.array([vendi(Y[idx]) for idx in groups.values()])
    print(
        f"agreement per {what} ({len(groups)} groups): Spearman {spearmanr(vs_x, vs_y)[0]:.3f}, "
        f"Pearson {pearsonr(vs_x, vs_y)[0]:.3f}; mean Vendi static {vs_x.mean():.2f}, minilm {vs_y.mean():.2f}"
    )
    if len(groups) <= 20:
        for name, a, b in sorted(zip(groups, vs_x, vs_y), key=lambda t: -t[2]):
            print(f"    {name:28s} static {a:7.2f}   minilm {b:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--minilm-npy", type=Path, default=None, help="load minilm vectors from here, or save them"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.open(encoding="utf-8")]
    texts = [row["output"] for row in rows]
    X, static_s = static_part(texts, args.repeat)
    cache_part(texts)
    Y, minilm_s = minilm_part(texts, args.minilm_npy)
    if minilm_s is not None:
        print(
            f"ratio: static is {minilm_s / static_s:,.0f}x faster than minilm on the same {len(texts):,} outputs"
        )
    agreement(X, Y, [row["generator"] for row in rows], "generator")
    agreement(X, Y, [row["instruction"] for row in rows], "instruction")


if __name__ == "__main__":
    main()
