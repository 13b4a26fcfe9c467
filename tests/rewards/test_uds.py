"""UDS online batch selection: utility, sketch, queue, selection rules, and a real Trainer run (METHODS.md sec. 2)."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from quadiv.errors import UsageError
from quadiv.rewards import FastJLProjector, SketchQueue, UDSSelector, nuclear_norms


def logits(seed: int, n: int = 6, length: int = 12, vocab: int = 40, scales=None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, length, vocab, generator=g)
    return x if scales is None else x * torch.tensor(scales, dtype=torch.float32)[:, None, None]


def test_utility_is_the_nuclear_norm_of_the_raw_logits() -> None:
    x = logits(0)
    by_numpy = [np.linalg.svd(m.numpy().astype(np.float64), compute_uv=False).sum() for m in x]
    assert np.allclose(nuclear_norms(x).numpy(), by_numpy, rtol=1e-5)
    assert torch.allclose(nuclear_norms(x), torch.linalg.matrix_norm(x, ord="nuc"), rtol=1e-5)


def fft_sketch(projector: FastJLProjector, x: np.ndarray) -> np.ndarray:
    """The reference's definition with numpy's FFT: pad to T rows, signs, Re FFT, kept frequencies, scale."""
    T, V = projector.max_length, projector.vocab_size
    padded = np.zeros((T, V))
    padded[: len(x)] = x[:T]
    y = np.fft.fft(padded * projector.col_signs.numpy(), axis=1).real[:, projector.col_freqs.numpy()]
    y = y * np.sqrt(V / projector.cols) * projector.row_signs.numpy()[:, None]
    return (np.fft.fft(y, axis=0).real[projector.row_freqs.numpy()] * np.sqrt(T / projector.rows)).ravel()


def test_the_sketch_is_the_signed_fft_definition_and_keeps_distances_up_to_a_constant() -> None:
    projector = FastJLProjector(max_length=64, vocab_size=500, rows=8, cols=128, seed=0)
    x = torch.randn(40, 64, 500, generator=torch.Generator().manual_seed(1))
    p = projector(x)
    assert p.shape == (40, 1024)
    longer = torch.randn(80, 500, generator=torch.Generator().manual_seed(2))
    for sample in (x[0], x[1, :30], longer):  # full length, short (zero-padded), longer (cut to T)
        expected = fft_sketch(projector, sample.double().numpy())
        got = projector(sample[None])[0].numpy()
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    i, j = np.triu_indices(40, 1)
    ratio = (torch.cdist(p, p)[i, j] / torch.cdist(x.flatten(1), x.flatten(1))[i, j]).numpy()
    assert ratio.std() / ratio.mean() < 0.1  # one constant factor for every pair, a few per cent of spread


def test_the_queue_is_fifo_and_wraps() -> None:
    queue = SketchQueue(size=3, dim=2)
    rows = torch.arange(10, dtype=torch.float32).reshape(5, 2)
    assert torch.equal(queue.mean_distance(rows), torch.zeros(5))
    queue.push(rows[:2])
    assert torch.equal(queue.items, rows[:2]) and len(queue) == 2
    queue.push(rows[2:])
    assert torch.equal(queue.items, rows[2:]) and len(queue) == 3  # rows 0 and 1 left first
    probe = torch.tensor([[0.0, 0.0]])
    by_hand = np.mean([np.hypot(*r) for r in rows[2:].numpy()])
    assert np.isclose(queue.mean_distance(probe).item(), by_hand)


def test_alpha_zero_keeps_the_highest_utility() -> None:
    x = logits(2, scales=[1.0, 3.0, 0.5, 2.0, 4.0, 1.5])
    selector = UDSSelector(k_base=3, alpha=0.0, max_length=16)
    selector.select(logits(3), step=0)  # a non-empty queue: its distances must not matter
    expected = sorted(np.argsort(-nuclear_norms(x).numpy())[:3].tolist())
    assert selector.select(x, step=1) == expected == [1, 3, 4]


def test_a_huge_alpha_keeps_the_farthest_from_the_queue() -> None:
    selector = UDSSelector(k_base=2, alpha=1e9, max_length=16)
    first = selector.select(logits(4), step=0)
    assert len(first) == 2 and len(selector.queue) == 2
    x = logits(5)
    sketches, queued = selector.projector(x).numpy(), selector.queue.items.numpy()
    distance = np.linalg.norm(sketches[:, None] - queued[None], axis=2).mean(axis=1)
    utility_order = sorted(np.argsort(-nuclear_norms(x).numpy())[:2].tolist())
    farthest = sorted(np.argsort(-distance)[:2].tolist())
    assert farthest != utility_order  # the case tells the two rules apart
    assert selector.select(x, step=1) == farthest


def test_scores_follow_the_formula_raw_and_normalised() -> None:
    raw = UDSSelector(k_base=2, alpha=2.5e-3, normalize=None, max_length=16)
    raw.select(logits(6), step=0)
    x = logits(7)
    u = nuclear_norms(x).numpy()
    d = np.linalg.norm(raw.projector(x).numpy()[:, None] - raw.queue.items.numpy()[None], axis=2).mean(axis=1)
    assert np.allclose(raw.scores(x).numpy(), u + 2.5e-3 * d, rtol=1e-5)
    z = UDSSelector(k_base=2, alpha=0.7, max_length=16)
    z.select(logits(6), step=0)
    zs = lambda v: (v - v.mean()) / v.std()
    assert np.allclose(z.scores(x).numpy(), zs(u) + 0.7 * zs(d), atol=1e-4)
    minmax = UDSSelector(k_base=2, normalize="minmax", max_length=16).scores(x).numpy()
    assert np.allclose(minmax, (u - u.min()) / (u.max() - u.min()), atol=1e-5)  # empty queue: d = 0


def test_normalised_selection_does_not_depend_on_the_logit_scale() -> None:
    batches = [logits(s) for s in range(8, 14)]
    picks = []
    for factor in (1.0, 50.0):
        selector = UDSSelector(k_base=2, alpha=1.0, max_length=16)
        picks.append([selector.select(b * factor, step) for step, b in enumerate(batches)])
    assert picks[0] == picks[1]


def test_the_same_seed_gives_the_same_run() -> None:
    batches = [logits(s) for s in range(20, 26)]

    def run(seed: int, **kwargs) -> list[list[int]]:
        selector = UDSSelector(k_base=2, max_length=16, queue_size=4, seed=seed, **kwargs)
        return [selector.select(b, step) for step, b in enumerate(batches)]

    assert run(0) == run(0) and run(0, random=True) == run(0, random=True)
    assert run(0, random=True) != run(1, random=True)
    assert not torch.equal(FastJLProjector(16, 40, cols=20, seed=0)(batches[0]),
                           FastJLProjector(16, 40, cols=20, seed=1)(batches[0]))


def test_a_small_batch_or_an_early_step_keeps_everything_and_queues_nothing() -> None:
    selector = UDSSelector(k_base=6, max_length=16)
    assert selector.select(logits(30), step=0) == list(range(6)) and selector.queue is None
    late = UDSSelector(k_base=2, max_length=16, start_sampling_step=3)
    assert late.select(logits(31), step=2) == list(range(6)) and late.queue is None
    assert len(late.select(logits(31), step=3)) == 2 and len(late.queue) == 2


@pytest.mark.parametrize("kwargs", [{"k_base": 0}, {"normalize": "softmax"}, {"alpha": -1.0},
                                    {"alpha": float("nan")}])
def test_bad_settings_are_usage_errors(kwargs) -> None:
    with pytest.raises(UsageError):
        UDSSelector(**kwargs)


@pytest.mark.parametrize("accumulation", [1, 2])
def test_a_trainer_step_trains_only_on_the_kept_samples(tmp_path: Path, monkeypatch, accumulation: int) -> None:
    """One UDSTrainer step on micro-batches of 4 keeping 2 == one plain Trainer step on the kept rows alone."""
    transformers = pytest.importorskip("transformers")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generate"))
    from tiny_lm import build_tiny_lm

    from quadiv.rewards import UDSTrainer

    model, tok = build_tiny_lm(seed=0, init_std=0.02)
    texts = ["the cat sits on the hill", "a dog runs in the river", "the sun shines on a sea",
             "an old cow eats the leaf", "a red bird flies to trees", "the big fish swims in lakes",
             "this white horse sleeps by the", "that small mouse eats the dust"][: 4 * accumulation]
    rows = [tok(t) for t in texts]
    assert len({len(r["input_ids"]) for r in rows}) == 1  # equal lengths: no padding to compare across batches
    data = [{"input_ids": r["input_ids"], "attention_mask": r["attention_mask"], "labels": r["input_ids"]}
            for r in rows]

    def args(batch: int) -> transformers.TrainingArguments:
        return transformers.TrainingArguments(
            output_dir=str(tmp_path / f"run{batch}"), per_device_train_batch_size=batch, max_steps=1,
            gradient_accumulation_steps=accumulation,
            learning_rate=0.5, optim="sgd", lr_scheduler_type="constant", report_to=[], save_strategy="no",
            logging_strategy="no", use_cpu=True, seed=0)

    trained_on: list[list[list[int]]] = []
    parent_step = transformers.Trainer.training_step

    def recording(self, model_, inputs, num_items_in_batch=None):
        trained_on.append([list(map(int, ids)) for ids in inputs["input_ids"]])
        return parent_step(self, model_, inputs, num_items_in_batch)

    monkeypatch.setattr(transformers.Trainer, "training_step", recording)
    collate = transformers.default_data_collator
    uds = UDSTrainer(model=copy.deepcopy(model), args=args(4), train_dataset=data, data_collator=collate,
                     uds=UDSSelector(k_base=2, max_length=16))
    uds.train()
    assert len(uds.kept) == accumulation and all(len(keep) == 2 for keep in uds.kept)
    assert len(trained_on) == accumulation and all(len(rows) == 2 for rows in trained_on)  # only kept rows
    kept_rows = [d for d in data if any(d["input_ids"] in rows for rows in trained_on)]
    assert len(kept_rows) == 2 * accumulation

    plain = transformers.Trainer(model=copy.deepcopy(model), args=args(2), train_dataset=kept_rows,
                                 data_collator=collate)
    plain.train()
    untouched = dict(model.named_parameters())
    for (name, a), (_, b) in zip(uds.model.named_parameters(), plain.model.named_parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert any(not torch.allclose(a, untouched[n]) for n, a in uds.model.named_parameters())
