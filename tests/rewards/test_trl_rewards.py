"""DARLING, MultiRole and pairwise rewards against hand-computed values; TRL's call shapes; the gather."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from quadiv.errors import UsageError
from quadiv.rewards import (
    DarlingReward,
    MultiRoleReward,
    PairwiseDiversityReward,
    classes,
    darling_diversity,
    linguistic_diversity,
    short_equivalent,
)
from quadiv.rewards._multirole import token_entropy, vocabulary_richness, yule_richness


class TableEmbedder:
    """Each known text maps to a fixed unit vector."""

    def __init__(self, table):
        self.table = {k: np.asarray(v, float) / np.linalg.norm(v) for k, v in table.items()}

    def encode(self, texts):
        return np.array([self.table[t] for t in texts], dtype=np.float32)


LONG = ["the first long answer about cats and dogs", "a second long answer about the moon tonight",
        "a third long answer on the stock market", "the fourth long answer about quantum fields"]
ORTHO = TableEmbedder({t: np.eye(4)[k] for k, t in enumerate(LONG)})
SAME = TableEmbedder({t: [1.0, 0, 0, 0] for t in LONG})


def test_short_answers_follow_darlings_unigram_rule():
    assert short_equivalent("Paris", "paris") is True
    assert short_equivalent("It is Paris", "Paris") is False  # overlap 1, twice 2 < 3
    assert short_equivalent("the answer is 42", "42 is the answer") is True
    assert short_equivalent("one two three four five six", "one") is None  # long: the equivalence judges it


def test_union_find_class_sizes():
    assert classes(5, [(0, 1), (1, 2), (3, 4)]).tolist() == [3, 3, 3, 2, 2]
    assert classes(3, []).tolist() == [1, 1, 1]


@pytest.mark.parametrize("embedder, expected", [(SAME, [0.1] * 4), (ORTHO, [1.0] * 4)])
def test_all_equivalent_groups_get_the_floor_and_all_distinct_groups_get_one(embedder, expected):
    reward = DarlingReward(embedder=embedder, threshold=0.9, log_metrics=False, gather=None)
    assert reward(prompts=["p"] * 4, completions=LONG) == pytest.approx(expected)


def test_darling_diversity_formula_and_the_toy_of_the_study():
    assert darling_diversity(np.array([2, 2, 1, 1])).tolist() == pytest.approx([2 / 3, 2 / 3, 1, 1])
    assert darling_diversity(np.array([1])).tolist() == [1.0]
    assert darling_diversity(np.array([4, 4, 4, 4]), floor=0.0).tolist() == [0, 0, 0, 0]
    near = TableEmbedder({LONG[0]: [1, 0, 0], LONG[1]: [1, 0.05, 0], LONG[2]: [0, 1, 0], LONG[3]: [0, 0, 1]})
    quality = lambda prompts, completions, **kw: [0.9, 0.8, 0.7, 0.6]
    reward = DarlingReward(embedder=near, quality=quality, log_metrics=False, gather=None)
    assert reward(prompts=["p"] * 4, completions=LONG) == pytest.approx([0.6, 0.8 * 2 / 3, 0.7, 0.6])


def test_the_combinations_match_hand_computed_numbers():
    near = TableEmbedder({LONG[0]: [1, 0, 0], LONG[1]: [1, 0.05, 0], LONG[2]: [0, 1, 0], LONG[3]: [0, 0, 1]})
    q = [0.2, 0.5, 0.3, 0.4]
    quality = lambda prompts, completions, **kw: q
    div = np.array([2 / 3, 2 / 3, 1, 1])
    biased = DarlingReward(embedder=near, quality=quality, add_bias=True, log_metrics=False, gather=None)
    assert biased(prompts=["p"] * 4, completions=LONG) == pytest.approx((np.array(q) - 0.2) * div)
    z = DarlingReward(embedder=near, quality=quality, combine="zscore", weights=(2.0, 0.5), log_metrics=False,
                      gather=None)
    zq = (np.array(q) - np.mean(q)) / np.std(q)
    zd = (div - div.mean()) / div.std()
    assert z(prompts=["p"] * 4, completions=LONG) == pytest.approx(2.0 * zq + 0.5 * zd)


def test_the_partition_among_correct_answers_only():
    reward = DarlingReward(embedder=SAME, correct=lambda prompt, completion, answer: answer in completion,
                           log_metrics=False, gather=None)
    got = reward(prompts=["p"] * 4, completions=LONG, answer=["cats", "moon", "xyz", "xyz"])
    assert got == pytest.approx([0.1, 0.1, 0.0, 0.0])  # the two correct ones are equivalent; wrong ones get 0


def test_groups_are_by_prompt_and_conversational_completions_are_read():
    reward = PairwiseDiversityReward(embedder=ORTHO, log_metrics=False, gather=None)
    prompts = [[{"role": "user", "content": "p"}]] * 2 + [[{"role": "user", "content": "q"}]] * 2
    completions = [[{"role": "assistant", "content": t}] for t in LONG]
    assert reward(prompts=prompts, completions=completions) == pytest.approx([1.0] * 4)
    alone = reward(prompts=["p", "q"], completions=LONG[:2])
    assert alone == [None, None]  # a group of one has no pair


def test_pairwise_diversity_is_the_mean_cosine_distance_to_the_rest():
    e = TableEmbedder({LONG[0]: [1, 0], LONG[1]: [1, 1], LONG[2]: [0, 1]})
    X = e.encode(LONG[:3]).astype(float)
    expected = [np.mean([1 - X[i] @ X[j] for j in range(3) if j != i]) for i in range(3)]
    reward = PairwiseDiversityReward(embedder=e, log_metrics=False, gather=None)
    assert reward(prompts=["p"] * 3, completions=LONG[:3]) == pytest.approx(expected)


def test_instances_carry_the_names_trl_logs_them_under():
    names = {r.__name__ for r in (DarlingReward(gather=None), PairwiseDiversityReward(), MultiRoleReward())}
    assert names == {"darling", "pairwise_diversity", "multirole_diversity"}


def test_multirole_signals_in_closed_form():
    assert vocabulary_richness(["a", "a", "b", "b"]) == 0.5
    assert token_entropy(["a", "b", "c", "d"]) == pytest.approx(1.0)
    assert token_entropy(["a", "a", "a", "a"]) == 0.0
    # Yule's K of "a a b": N = 3, V_1 = 1, V_2 = 1: K = 1e4 (1 + 4 - 3) / 9
    assert yule_richness(["a", "a", "b"]) == pytest.approx(1 / (1 + (1e4 * 2 / 9) / 100))
    only = {"vocabulary_richness": 1.0}
    assert linguistic_diversity("a a b b", only) == 0.5
    assert linguistic_diversity("one. two. three.", {"structure_variety": 2.0, "vocabulary_richness": 2.0}) == 1.0
    with pytest.raises(UsageError, match="unknown MultiRole"):
        MultiRoleReward(weights={"rhyme": 1.0})


def test_multirole_mixes_accuracy_by_delta():
    accuracy = lambda prompts, completions, **kw: [1.0, 0.0]
    reward = MultiRoleReward(weights={"vocabulary_richness": 1.0}, accuracy=accuracy, delta=0.25, log_metrics=False)
    assert reward(prompts=["p", "p"], completions=["a b", "a a"]) == pytest.approx([0.25 + 0.75, 0.75 * 0.5])


class ThreadGatherer:
    """Two 'processes' as threads: gather_object's semantics (every rank's list, concatenated in rank order)."""

    def __init__(self, shared, rank, world):
        self.shared, self.process_index, self.num_processes = shared, rank, world

    def gather(self, items):
        shared = self.shared
        with shared["lock"]:
            shared.setdefault(shared["round"][self.process_index], {})[self.process_index] = items
            key = shared["round"][self.process_index]
            shared["round"][self.process_index] += 1
        shared["barrier"].wait()
        out = [x for r in range(self.num_processes) for x in shared[key][r]]
        shared["barrier"].wait()
        return out


def test_a_group_split_across_two_processes_gets_the_single_process_rewards():
    texts = ["the cat sat on the warm mat today", "the cat sat on the warm mat again", "stocks fell sharply on monday",
             "a quiet river runs through the old town", "the moon is bright tonight over the sea",
             "the moon is bright tonight over the lake"]
    prompts = ["p"] * 3 + ["q"] * 3  # rank 0 gets p, p, p, q; rank 1 gets q, q: group q is split
    whole = DarlingReward(threshold=0.8, log_metrics=False, gather=None)(prompts=prompts, completions=texts)
    shared = {"lock": threading.Lock(), "barrier": threading.Barrier(2), "round": [0, 0]}
    results = {}

    def rank(r, part):
        reward = DarlingReward(threshold=0.8, log_metrics=False, gather=ThreadGatherer(shared, r, 2))
        results[r] = reward(prompts=[prompts[i] for i in part], completions=[texts[i] for i in part])
    threads = [threading.Thread(target=rank, args=(0, range(4))), threading.Thread(target=rank, args=(1, range(4, 6)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results[0] + results[1] == pytest.approx(whole)
    split = DarlingReward(threshold=0.8, log_metrics=False, gather=None)(prompts=prompts[4:], completions=texts[4:])
    assert split != pytest.approx(whole[4:])  # without the gather the split group would be scored differently


def test_log_metric_receives_the_groups_vendi_and_distinct_2():
    logged = {}
    reward = PairwiseDiversityReward(embedder=ORTHO, gather=None)
    reward(prompts=["p"] * 4, completions=LONG, log_metric=lambda name, value: logged.__setitem__(name, value))
    assert logged["quadiv/vendi"] == pytest.approx(4.0) and 0 < logged["quadiv/distinct_2"] <= 1


def test_bad_settings_are_usage_errors():
    with pytest.raises(UsageError, match="classifier"):
        DarlingReward(equivalence="classifier")
    with pytest.raises(UsageError):
        DarlingReward(combine="sum")
    with pytest.raises(UsageError, match="prompts for"):
        PairwiseDiversityReward(gather=None)(prompts=["p"], completions=["a", "b"])
    assert math.isclose(DarlingReward(gather=None).floor, 0.1)
