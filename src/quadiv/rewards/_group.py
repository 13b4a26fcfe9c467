"""What every group-aware TRL reward shares: the texts, the groups of one prompt, and the gather across processes.

TRL's ``GRPOTrainer`` calls a reward function with keyword arguments only: ``prompts``, ``completions``
(strings, or message lists for conversational datasets), every dataset column but ``prompt``,
``trainer_state``, ``log_metric`` and ``log_extra``, and expects one float per completion (``None``:
not applicable). Its ``RepeatSampler`` places the ``num_generations`` completions of a prompt
contiguously, but each process scores only its own slice, and one prompt's group may span two
processes (GENERATION.md sec. 8.4). A group reward therefore gathers the whole batch from every
process (``accelerate.utils.gather_object``), scores every group whole, and returns its local slice:
every process computes the same rewards a single process would.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

TRL_ARGUMENTS = ("trainer_state", "log_metric", "log_extra", "completion_ids", "environments")


class Gatherer(Protocol):
    """The processes of a distributed run: this one's index, and ``gather`` (every process' list, concatenated)."""

    process_index: int
    num_processes: int

    def gather(self, items: list) -> list: ...


class AccelerateGatherer:
    """:class:`Gatherer` over ``accelerate``'s process group (what TRL itself uses)."""

    def __init__(self) -> None:
        from accelerate import PartialState

        state = PartialState()
        self.process_index, self.num_processes = state.process_index, state.num_processes

    def gather(self, items: list) -> list:
        from accelerate.utils import gather_object

        return gather_object(items)


def default_gatherer() -> Gatherer | None:
    """accelerate's process group when it spans several processes, else None (nothing to gather)."""
    try:
        from accelerate import PartialState
    except ImportError:
        return None
    state = PartialState()
    return AccelerateGatherer() if state.num_processes > 1 else None


def completion_text(completion: Any) -> str:
    """A standard completion as is; a conversational one (a list of messages) as its assistant contents."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and all(isinstance(m, dict) for m in completion):
        return "\n".join(str(m.get("content", "")) for m in completion if m.get("role", "assistant") == "assistant")
    raise TypeError(f"a completion must be a string or a list of messages; got {type(completion).__name__}")


def prompt_text(prompt: Any) -> str:
    """A standard prompt as is; a conversational one as its last user message."""
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
    return str(users[-1]) if users else json.dumps(prompt, sort_keys=True, default=str)


def prompt_key(prompt: Any) -> str:
    """What makes two prompts the same prompt (the whole message list for a conversation)."""
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, default=str)


def groups_of(keys: Sequence[str]) -> list[np.ndarray]:
    """Indices of the completions of each distinct prompt, in first-seen order."""
    found: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        found.setdefault(key, []).append(i)
    return [np.asarray(v) for v in found.values()]


class Batch:
    """One call's batch, gathered from every process when there are several: prompts, completions, columns."""

    def __init__(self, prompts: list, completions: list, columns: dict[str, list], gatherer: Gatherer | None):
        self.local = slice(0, len(completions))
        if gatherer is not None and gatherer.num_processes > 1:
            sizes = gatherer.gather([len(completions)])
            start = int(sum(sizes[:gatherer.process_index]))
            self.local = slice(start, start + len(completions))
            rows = gatherer.gather([{"prompt": p, "completion": c, **{k: v[i] for k, v in columns.items()}}
                                    for i, (p, c) in enumerate(zip(prompts, completions))])
            prompts, completions = [r["prompt"] for r in rows], [r["completion"] for r in rows]
            columns = {k: [r[k] for r in rows] for k in columns}
        self.prompts, self.completions, self.columns = prompts, completions, columns
        self.texts = [completion_text(c) for c in completions]
        self.prompt_texts = [prompt_text(p) for p in prompts]
        self.groups = groups_of([prompt_key(p) for p in prompts])


def dataset_columns(kwargs: dict[str, Any], n: int) -> dict[str, list]:
    """The dataset's own columns among TRL's keyword arguments (lists of one value per completion)."""
    return {k: list(v) for k, v in kwargs.items()
            if k not in TRL_ARGUMENTS and isinstance(v, (list, tuple)) and len(v) == n}


def as_rewards(values: np.ndarray) -> list[float | None]:
    """Floats for TRL; NaN (not applicable) as None, which TRL ignores."""
    return [None if not np.isfinite(v) else float(v) for v in values]


