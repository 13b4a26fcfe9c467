"""Time UDS selection per micro-batch: quadiv's batched UDSSelector against the reference's per-sample loop.

Run: OMP_NUM_THREADS=2 python bench/bench_uds.py [REPEATS]
Data: random float32 logits of micro-batches (B, l, V) at the reference script's micro-batch 4 and sketch
T = 512, with a queue of 1024 kept sketches; V = 32000 (Llama-2 vocabulary) and a small V = 4000.
Reference: gfyddha/UDS as its trainer runs the same formula (not importable here: it is a training script
pinned to CUDA): svdvals of the batch, then for each sample a zero-padded (T, V) copy sketched on its own,
then cdist to the queue; written here from that description. Both give the same scores on the same input
(checked below), so the ratio is the cost of the per-sample loop and of the padded copies.
"""
from __future__ import annotations

import math
import statistics
import sys
import time

import torch

from quadiv.rewards import UDSSelector, nuclear_norms


def reference_scores(selector: UDSSelector, logits: torch.Tensor, alpha: float) -> torch.Tensor:
    """u + alpha * d with one padded (T, V) sketch per sample, as the reference trainer computes them."""
    p = selector.projector
    utility = torch.linalg.svdvals(logits).sum(1)
    sketches = []
    for sample in logits:
        padded = sample.new_zeros((p.max_length, p.vocab_size))
        padded[: sample.shape[0]] = sample
        x = torch.fft.fft(padded * p.col_signs, dim=-1).real[:, p.col_freqs] * math.sqrt(p.vocab_size / p.cols)
        x = torch.fft.fft(x * p.row_signs[:, None], dim=0).real[p.row_freqs] * math.sqrt(p.max_length / p.rows)
        sketches.append(x.reshape(-1))
    distance = torch.cdist(torch.stack(sketches), selector.queue.items, p=2).mean(1)
    return utility + alpha * distance


def timed(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {repeats}")
    print("B x l x V          quadiv scores   reference scores   ratio")
    for batch, length, vocab in [(4, 256, 4000), (4, 256, 32000), (4, 512, 32000)]:
        g = torch.Generator().manual_seed(0)
        selector = UDSSelector(k_base=1, alpha=2.5e-3, normalize=None, max_length=512)
        for _ in range(256):  # fill the queue: 1024 sketches
            selector._build(vocab)
            selector.queue.push(torch.randn(4, selector.projector.dim, generator=g) * 100)
        logits = torch.randn(batch, length, vocab, generator=g)
        assert torch.allclose(selector.scores(logits), reference_scores(selector, logits, 2.5e-3), rtol=1e-4)
        assert torch.allclose(nuclear_norms(logits), torch.linalg.matrix_norm(logits, ord="nuc"), rtol=1e-4)
        ours = timed(lambda s=selector, x=logits: s.scores(x), repeats)
        theirs = timed(lambda s=selector, x=logits: reference_scores(s, x, 2.5e-3), repeats)
        print(f"{batch} x {length} x {vocab:<6}  {ours * 1e3:9.0f} ms   {theirs * 1e3:12.0f} ms   {theirs / ours:6.2f}x")


if __name__ == "__main__":
    main()
