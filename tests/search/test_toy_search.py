"""Each algorithm beats random sampling on the toy landscape, at the same number of evaluations."""
from __future__ import annotations

import random

import numpy as np
import pytest
from toy_domain import AXES, SEEDS, FakeLLM, descriptors, fitness, mutator, random_edit, rewriter

from quadiv.search import LMXEmitter, MultiElementArchive, RewriteEmitter, RibsArchive, run

BUDGET = 400


def random_sampling(budget: int, archive) -> float:
    """The baseline: every evaluation a fresh random edit of a random seed, no archive feedback."""
    rng = random.Random(1)
    for k in range(budget):
        text = " ".join(random_edit(rng.choice(SEEDS).split(), rng))
        from quadiv.search import Elite

        archive.add(Elite(str(k), text, fitness(text), descriptors(text)))
    return archive.stats()["qd_score"]


def contest(challenger: str, incumbent: str) -> float:
    return 1.0 if fitness(challenger) > fitness(incumbent) else 0.0


ALGORITHMS = {
    "map-elites": lambda: {"mutate": mutator(0), "similarity": None},
    "qdaif": lambda: {"mutate": LMXEmitter(FakeLLM(), domain="toy texts", batch=4), "similarity": None},
    "rainbow": lambda: {"mutate": RewriteEmitter(FakeLLM(), batch=4), "contest": contest, "similarity": 0.95},
    "rainbowplus": lambda: {"mutate": RewriteEmitter(FakeLLM(), joint=True, num_mutations=5, seed_iterations=10),
                                "similarity": 0.95, "archive": MultiElementArchive(AXES, threshold=0.5)},
    "ferret": lambda: {"mutate": RewriteEmitter(FakeLLM(), target="weak", num_mutations=4, weak_temperature=0.2),
                           "keep_best": 1, "contest": contest, "similarity": 0.95},
    "function-rewrite": lambda: {"mutate": rewriter(0), "similarity": None},
}


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_beats_random_sampling(name):
    options = ALGORITHMS[name]()
    archive = options.pop("archive", None) or MultiElementArchive(AXES, cap=1)
    baseline_archive = archive.empty_like()
    result = run(SEEDS, fitness=fitness, descriptors=descriptors, archive=archive, budget=BUDGET, seed=0, **options)
    baseline = random_sampling(BUDGET, baseline_archive)
    assert result.history[-1]["evaluations"] == BUDGET
    assert result.stats()["qd_score"] > 1.5 * baseline, (result.stats(), baseline_archive.stats())


def test_multi_element_archive_holds_every_child_above_the_threshold():
    seen = []

    def scored(text):
        seen.append((fitness(text), descriptors(text)))
        return fitness(text)
    archive = MultiElementArchive(AXES, threshold=0.5)
    run(SEEDS, mutate=mutator(3), fitness=scored, descriptors=descriptors, archive=archive, budget=200,
        similarity=None)
    above = [f for f, _ in seen if f > 0.5]
    assert len(archive.elites()) == len(above) > 0
    assert sorted(e.fitness for e in archive.elites()) == sorted(above)
    for members in archive.cells().values():
        assert [m.fitness for m in members] == sorted((m.fitness for m in members), reverse=True)


def test_ribs_adapter_and_native_archive_agree_on_single_elite_insertion():
    rng = np.random.default_rng(0)
    native, ribs = MultiElementArchive(AXES, cap=1), RibsArchive.grid(AXES)
    from quadiv.search import Elite

    for k in range(500):
        text = " ".join(rng.choice(["red", "blue", "plain", "noise"], rng.integers(1, 12)))
        f = float(np.round(fitness(text), 1))  # ties happen: both must keep the first
        a = native.add(Elite(str(k), text, f, descriptors(text)))
        b = ribs.add(Elite(str(k), text, f, descriptors(text)))
        assert a == b
    assert {c: m[0].id for c, m in native.cells().items()} == {c: m[0].id for c, m in ribs.cells().items()}
    assert native.stats() == ribs.stats()
