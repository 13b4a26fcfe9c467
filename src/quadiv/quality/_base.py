"""The Scorer protocol, what a scorer returns, and the registry of scorers chosen by spec.

A scorer maps items (a text, optionally with the instruction it answers) to one float each, NaN where it
cannot score an item, plus optional per-item columns (a rule's statistic, a filter's verdict, the
probability mass a judge put on its labels). ``higher_is_better`` declares the direction of the score.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from quadiv._registry import Registry
from quadiv.errors import UsageError


@dataclass(frozen=True)
class Item:
    """One thing to score: a text (a document or a response), its instruction, and a reference to compare with."""

    text: str
    instruction: str | None = None
    reference: str | None = None


@dataclass
class Scores:
    """A scorer's output for n items: ``values`` (n,) float64 and extra per-item ``columns`` (n,) each."""

    values: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        n = len(self.values)
        for name, column in self.columns.items():
            if len(column) != n:
                raise ValueError(f"column '{name}' has {len(column)} values for {n} items")


@runtime_checkable
class Scorer(Protocol):
    """Scores items; ``name`` fingerprints the model and every setting that changes the scores.

    The score cache is keyed by ``name``, so two scorers with the same name must give the same scores.
    ``column`` is the output column of the score (``heuristic``, ``rm``, ``judge``, ...); ``batch_size``
    is how many items one :meth:`score` call should get; ``needs_instruction`` says whether an item
    without an instruction can be scored at all.
    """

    name: str
    column: str
    higher_is_better: bool
    batch_size: int
    needs_instruction: bool

    def score(self, items: Sequence[Item]) -> Scores:
        """Scores of ``items``, in order: one value per item (NaN where unscorable) and extra columns."""
        ...


ScorerFactory = Callable[..., Scorer]
SCORERS: Registry[ScorerFactory] = Registry("scorer", checks_params=True)  # prefix -> class(arg?, **params)


def register_scorer(prefix: str, factory: ScorerFactory, *, argument: str | None = None) -> None:
    """Make ``get_scorer("<prefix>")`` (or ``"<prefix>:<arg>"`` when ``argument`` names what arg is) build it.

    With ``argument`` (say ``"a model directory"``) the factory is called as ``factory(arg, **params)`` and
    the spec must carry the arg; without, as ``factory(**params)`` and the spec must not.
    """
    if not prefix or ":" in prefix:
        raise UsageError(f"a scorer prefix must be a non-empty word without ':', got {prefix!r}")
    factory.spec_argument = argument  # type: ignore[attr-defined]
    SCORERS.register(factory, prefix)


def scorer_spec(prefix: str) -> str:
    """How a spec of ``prefix`` is written: 'heuristic' or 'rm:<a model directory>'."""
    argument = getattr(SCORERS.entry(prefix), "spec_argument", None)
    return prefix if argument is None else f"{prefix}:<{argument}>"


def get_scorer(spec: str, **params) -> Scorer:
    """Build the scorer named by ``spec`` (``heuristic``, ``rm:<dir>``, ``judge:<model>``, ...) with ``params``."""
    prefix, _, arg = spec.partition(":")
    factory = SCORERS.entry(prefix)
    argument = getattr(factory, "spec_argument", None)
    if argument is None:
        if arg:
            raise UsageError(f"the {prefix} scorer takes no argument, got '{spec}'; use '{prefix}'")
        return SCORERS.build(prefix, **params)
    if not arg:
        raise UsageError(f"the {prefix} scorer needs {argument}: '{prefix}:<{argument}>'")
    return SCORERS.build(prefix, arg, **params)


def parse_scorers(spec: str | Sequence[str]) -> list[str]:
    """'heuristic,rm:/m' -> ['heuristic', 'rm:/m'], checking each prefix is registered."""
    specs = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else [s.strip() for s in spec]
    specs = [s for s in specs if s]
    if not specs:
        raise UsageError("name at least one scorer, e.g. 'heuristic'")
    for s in specs:
        SCORERS.entry(s.partition(":")[0])
    return specs


def split_params(params: Mapping[str, object], prefixes: Sequence[str]) -> dict[str, dict[str, object]]:
    """Scorer parameters by prefix: ``heuristic.tokenizer=x`` goes to heuristic; a plain name to every
    scorer whose constructor has it (an error when none has)."""
    out: dict[str, dict[str, object]] = {p: {} for p in prefixes}
    for key, value in params.items():
        prefix, dot, name = key.partition(".")
        if dot:
            if prefix not in out:
                raise UsageError(f"parameter '{key}' names scorer '{prefix}', which this run does not use; "
                                 f"it uses: {', '.join(prefixes)}")
            out[prefix][name] = value
            continue
        takers = [p for p in prefixes if any(q.name == key for q in SCORERS.describe(p))]
        if not takers:
            raise UsageError(f"no scorer of this run takes parameter '{key}' ({', '.join(prefixes)}); "
                             "see `quadiv methods` for each scorer's parameters")
        for p in takers:
            out[p][key] = value
    return out
