"""A real trl.GRPOTrainer run on a tiny random model on CPU with quadiv's rewards: what it logs is what they give."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generate"))
import trl
from tiny_lm import build_tiny_lm

from quadiv.rewards import DarlingReward, PairwiseDiversityReward


def test_grpo_logs_the_rewards_quadiv_computes_for_its_completions(tmp_path):
    from datasets import Dataset

    model, tokenizer = build_tiny_lm(seed=0, eos_scale=0.2)
    dataset = Dataset.from_dict({"prompt": ["the cat", "a bird", "the sun", "a river"] * 2})
    darling, pairwise = DarlingReward(threshold=0.8, gather=None), PairwiseDiversityReward(gather=None)
    args = trl.GRPOConfig(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=4,
                          max_completion_length=8, logging_steps=1, report_to=[], use_cpu=True, bf16=False,
                          scale_rewards="none", seed=0, save_strategy="no", log_completions=False)
    trainer = trl.GRPOTrainer(model=model, reward_funcs=[darling, pairwise], args=args, train_dataset=dataset,
                              processing_class=tokenizer)
    trainer.train()
    logs = trainer._logs
    prompts, completions = list(logs["prompt"]), list(logs["completion"])
    assert len(completions) == 4 and len(set(prompts)) == 1  # the last step: one prompt, four completions
    for reward in (darling, pairwise):
        logged = list(logs["rewards"][reward.__name__])
        by_hand = reward(prompts=prompts, completions=completions)
        assert logged == pytest.approx([float("nan") if v is None else v for v in by_hand], nan_ok=True)
    history = [entry for entry in trainer.state.log_history if "rewards/darling/mean" in entry]
    assert len(history) == 2 and "quadiv/vendi" in history[-1] and "rewards/pairwise_diversity/mean" in history[-1]
