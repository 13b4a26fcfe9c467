"""Time `quadiv.front` on the 8,050 AlpacaEval answers: 4 methods x 11 tradeoffs, every point measured.

Embeddings: the built-in static model (distilled once into QUADIV_CACHE, ~20 s the first time; not
timed). The front is timed end to end (tokenising, selecting, measuring every point with `measure`'s
default metrics, Pareto/hypervolume/R2/knee). The reference is the naive loop a user would write:
`quadiv.select` then `quadiv.measure` for every (method, tradeoff), with nothing shared; the two must
give the same metrics, and the script prints the ratio.

    python bench/bench_front.py [--budget 1000] [--tradeoffs 0:1:11] [--no-naive]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from quadiv.embed import embed
from quadiv.front import DEFAULT_METHODS, front, parse_grid
from quadiv.io import float_column, read
from quadiv.measure import measure
from quadiv.select import select

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_eval_outputs.jsonl"


def naive(X, texts, quality, budget, tradeoffs, names) -> list[dict]:
    """select + measure per point, nothing shared."""
    out = []
    for method in DEFAULT_METHODS:
        for t in tradeoffs:
            chosen = select(X, budget, method=method, quality=quality, tradeoff=float(t)).indices
            out.append(measure(X[chosen], [texts[i] for i in chosen], quality[chosen], metrics=names)["metrics"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--tradeoffs", default="0:1:11")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive select + measure loop")
    args = ap.parse_args()

    table = read(args.data, columns=["output", "quality"])
    texts = table.column("output").to_pylist()
    quality = float_column(table, "quality")
    t0 = time.perf_counter()
    X = embed(texts, embedder="static")
    print(f"embedded {X.shape[0]} x {X.shape[1]} (static) in {time.perf_counter() - t0:.1f} s (not timed below)")

    grid = parse_grid(args.tradeoffs)
    t0 = time.perf_counter()
    result = front(X, args.budget, tradeoffs=grid, quality=quality, texts=texts)
    seconds = time.perf_counter() - t0
    n_points = len(result["points"])
    print(f"front: {len(DEFAULT_METHODS)} methods x {grid.size} tradeoffs, budget {args.budget}, "
          f"{len(result['metrics'])} metrics per point: {seconds:.1f} s ({n_points} points, "
          f"{len(result['pareto'])} on the front, hypervolume {result['hypervolume']['value']:.4g})")
    if args.no_naive:
        return
    t0 = time.perf_counter()
    reference = naive(X, texts, quality, args.budget, grid, result["metrics"])
    naive_seconds = time.perf_counter() - t0
    worst = max(abs(p["metrics"][k] - r[k]) / max(abs(r[k]), 1e-12)
                for p, r in zip(result["points"], reference) for k in r if np.isfinite(r[k]))
    print(f"naive select + measure loop: {naive_seconds:.1f} s; front is {naive_seconds / seconds:.2f}x faster; "
          f"largest relative metric difference {worst:.2g}")


if __name__ == "__main__":
    main()
