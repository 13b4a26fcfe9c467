"""quadiv.rewards: diversity at training time: reward functions for TRL's GRPOTrainer, UDS batch selection.

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

For supervised fine-tuning, :class:`UDSTrainer` (a ``transformers.Trainer``) trains each micro-batch only
on the samples :class:`UDSSelector` keeps: high nuclear norm of the logits, far from those kept before.

    from quadiv.rewards import UDSSelector, UDSTrainer
    trainer = UDSTrainer(model=model, args=args, train_dataset=data, uds=UDSSelector(k_base=1))
"""
from quadiv.rewards._base import GroupReward
from quadiv.rewards._darling import DarlingReward, darling_diversity
from quadiv.rewards._group import AccelerateGatherer, Gatherer
from quadiv.rewards._multirole import SIGNALS, MultiRoleReward, linguistic_diversity
from quadiv.rewards._pairwise import PairwiseDiversityReward, pairwise_diversity
from quadiv.rewards._partition import classes, partition, short_equivalent
from quadiv.rewards._uds import FastJLProjector, SketchQueue, UDSSelector, nuclear_norms

__all__ = ["SIGNALS", "AccelerateGatherer", "DarlingReward", "FastJLProjector", "Gatherer", "GroupReward",
           "MultiRoleReward", "PairwiseDiversityReward", "SketchQueue", "UDSSelector", "UDSTrainer", "classes",
           "darling_diversity", "linguistic_diversity", "nuclear_norms", "pairwise_diversity", "partition",
           "short_equivalent"]


def __getattr__(name: str):
    if name == "UDSTrainer":  # a transformers.Trainer subclass: defined when first asked for
        from quadiv.rewards._uds import trainer_class

        return trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
