"""QDHF's learned projection: its gradient, its fit to triplet judgements, and a search that refits online."""
from __future__ import annotations

import json

import numpy as np
import pytest
from toy_domain import SEEDS, descriptors, fitness, mutator, random_edit, seeded_mutator

from quadiv.search import Axis, Elite, LearnedProjection, MultiElementArchive, run
from quadiv.search._qdhf import _gradient, loss

NOISE = np.random.default_rng(7).normal(size=(4, 12))


def features(texts):
    """Word counts (red, blue, plain, noise) mixed into 12 dimensions: the judge's axes are hidden in them."""
    counts = np.array([[t.split().count(w) for w in ("red", "blue", "plain", "noise")] for t in texts], float)
    return counts @ NOISE


def closer(anchor, first, second):
    """The ground truth a human would give: distance in (red, blue) counts."""
    a, b, c = (np.array(descriptors(t)) for t in (anchor, first, second))
    return np.linalg.norm(b - a) < np.linalg.norm(c - a)


def test_the_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    W, Ua, Ub = rng.normal(size=(2, 6)), rng.normal(size=(30, 6)), rng.normal(size=(30, 6))
    y = rng.choice([-1.0, 1.0], 30)
    numeric = np.zeros_like(W)
    for idx in np.ndindex(*W.shape):
        step = np.zeros_like(W)
        step[idx] = 1e-6
        numeric[idx] = (loss(W + step, Ua, Ub, y, 0.05) - loss(W - step, Ua, Ub, y, 0.05)) / 2e-6
    assert np.allclose(_gradient(W, Ua, Ub, y, 0.05), numeric, atol=1e-6)


def random_texts(n, seed):
    rng = __import__("random").Random(seed)
    texts = []
    for _ in range(n):
        words = rng.choice(SEEDS).split()
        for _ in range(rng.randint(0, 12)):
            words = random_edit(words, rng)
        texts.append(" ".join(words))
    return texts


def agreement(learner, texts, seed):
    rng = np.random.default_rng(seed)
    hits = []
    for _ in range(400):
        r, a, b = (texts[i] for i in rng.choice(len(texts), 3, replace=False))
        d = np.array(learner.describe([r, a, b], [None] * 3))
        if closer(r, a, b) == closer(r, b, a):
            continue
        hits.append((np.linalg.norm(d[1] - d[0]) < np.linalg.norm(d[2] - d[0])) == closer(r, a, b))
    return np.mean(hits)


def test_fitted_distances_agree_with_the_judge_far_better_than_a_random_projection():
    texts = random_texts(200, 1)
    learner = LearnedProjection(features, closer, dims=2, n_triplets=300, epochs=300, lr=1e-2)
    learner.refit(texts[:2], np.random.default_rng(0))  # too few texts to judge: the initial random projection
    before = agreement(learner, texts, 5)
    state = learner.refit(texts[:100], np.random.default_rng(1))
    after = agreement(learner, texts[100:], 5)
    assert after > 0.85 and after > before + 0.1, (before, after)
    assert len(state["triplets"]) == 300 and np.allclose(np.array(state["low"]), np.array(learner.low))
    described = np.array(learner.describe(texts[:100], [None] * 100))
    assert described.min() == pytest.approx(0) and described.max() == pytest.approx(1)


def qdhf_run(budget, output=None, resume=False, mutate=None):
    learner = LearnedProjection(features, closer, n_triplets=60, epochs=200, lr=1e-2, refit_at=(0, 1, 21, 51))
    archive = MultiElementArchive([Axis.numeric("q1", 10), Axis.numeric("q2", 10)], cap=1)
    result = run(SEEDS, mutate=mutate or mutator(0), fitness=fitness, descriptors=learner, archive=archive,
                 budget=budget, seed=0, similarity=None, output=output, resume=resume)
    return result, learner


def test_an_online_qdhf_search_beats_random_sampling_in_its_own_learned_space():
    result, learner = qdhf_run(300)
    baseline = result.empty_like()
    texts = [" ".join(random_edit(t.split(), __import__("random").Random(k))) for k, t in
             enumerate(SEEDS * 75)]
    for k, (text, desc) in enumerate(zip(texts, learner.describe(texts, [None] * len(texts)))):
        baseline.add(Elite(str(k), text, fitness(text), desc))
    assert result.stats()["qd_score"] > 1.5 * baseline.stats()["qd_score"]
    assert len(learner.triplets) == 4 * 60  # four refits, 60 judgements each


def test_a_stopped_qdhf_search_resumes_to_the_same_archive(tmp_path):
    whole, _ = qdhf_run(150, output=tmp_path / "whole.jsonl", mutate=seeded_mutator)
    calls = {"n": 0}

    def failing(parent, *, rng):
        calls["n"] += 1
        if calls["n"] == 60:  # past the refits at 1 and 21, before the one at 51
            raise KeyboardInterrupt
        return seeded_mutator(parent, rng=rng)
    with pytest.raises(KeyboardInterrupt):
        qdhf_run(150, output=tmp_path / "cut.jsonl", mutate=failing)
    snapshot = json.loads((tmp_path / "cut.search.json").read_text())  # written every 10 iterations
    assert (tmp_path / "cut.jsonl.journal").exists() and not snapshot["complete"]
    resumed, _learner = qdhf_run(150, output=tmp_path / "cut.jsonl", resume=True, mutate=seeded_mutator)
    assert resumed.records() == whole.records() and resumed.history == whole.history
    assert (tmp_path / "cut.jsonl").read_text() == (tmp_path / "whole.jsonl").read_text()
