"""quadiv.rewards: diversity at training time, as reward functions for TRL's GRPOTrainer.

Each reward is a class whose instances are TRL reward functions (``prompts``, ``completions``, ``**kwargs``
in; one float per completion out; ``__name__`` for TRL's logs), with its settings in the constructor:

- :class:`DarlingReward`: DARLING's partition diversity times quality (Li et al. 2025).
- :class:`MultiRoleReward`: MultiRole-R1's per-response linguistic diversity composite (Wang et al. 2025).
- :class:`PairwiseDiversityReward`: mean 1 - cosine to the other completions of the prompt (Cideron et al. 2025).

Group rewards gather the batch across processes first (:class:`Gatherer`), so a group split over two
GPUs is scored whole; each call logs the groups' Vendi score and distinct-2 through TRL's ``log_metric``.

    from quadiv.rewards import DarlingReward
    trainer = GRPOTrainer(model, reward_funcs=[DarlingReward(quality=accuracy_reward)],
                          args=GRPOConfig(scale_rewards="none"), train_dataset=dataset)
"""
from quadiv.rewards._base import GroupReward
from quadiv.rewards._darling import DarlingReward, darling_diversity
from quadiv.rewards._group import AccelerateGatherer, Gatherer
from quadiv.rewards._multirole import SIGNALS, MultiRoleReward, linguistic_diversity
from quadiv.rewards._pairwise import PairwiseDiversityReward, pairwise_diversity
from quadiv.rewards._partition import classes, partition, short_equivalent

__all__ = ["SIGNALS", "AccelerateGatherer", "DarlingReward", "Gatherer", "GroupReward", "MultiRoleReward",
           "PairwiseDiversityReward", "classes", "darling_diversity", "linguistic_diversity", "pairwise_diversity",
           "partition", "short_equivalent"]
