"""The generation strategies, one module per family; importing this package registers them all.

``_sampling`` (baseline), ``_verbalized`` (Verbalized Sampling), ``_negative`` (negative prompting),
``_steer`` (STEER), ``_diverse_beam`` (Diverse Beam Search), ``_divse`` (DIV-SE, IDIV-SE),
``_plansearch`` (PlanSearch), ``_aggregate`` (Best-of-N, Fusion-of-N, Self-MoA) and ``_novelty``
(the novelty filter that wraps any strategy).
"""
from quadiv.generate.strategies import (  # noqa: F401
    _aggregate,
    _diverse_beam,
    _divse,
    _negative,
    _novelty,
    _plansearch,
    _sampling,
    _steer,
    _verbalized,
)
