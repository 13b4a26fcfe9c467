"""Subset selection: every method behind one Selector interface and one registry.

``select(X, budget, method=..., quality=None, tradeoff=0.5, groups=None, seed=0)`` returns a
:class:`Selection` (indices in selection order, objective). ``tradeoff`` means the same for every
method: 0 = diversity only, 1 = quality only.

Distributed execution (DESIGN, datatrove style): every selector is a function of arrays that works
either on the whole pool or per cluster. Cluster-based methods (`cluster`, `quad`, `quadmix`,
`balanced`, `d3`, `prismatic`) already split the pool into independent clusters or groups and allocate the budget
across them, so the per-cluster work is a batch step the engine can run in parallel; the greedy
methods (`facility-location`, `dpp`, `mmr`, `qvendi`, `k-center`) scale out the same way by running
on each cluster with its allocated budget (a partition-then-merge approximation) or, for
facility location, on kNN-graph shards.
"""
from quadiv.geometry import knn_graph  # public here since before geometry/ existed

# Importing a method's module registers it.
from quadiv.select._balanced import BalancedSelector
from quadiv.select._base import (
    SELECTORS,
    Selection,
    Selector,
    budget_from,
    get_selector,
    register,
    select,
    unit_quality,
)
from quadiv.select._baselines import KCenter, RandomSelector, TopQuality
from quadiv.select._cluster import ClusterSelector
from quadiv.select._d3 import D3Selector
from quadiv.select._dedup import DedupResult, dedup
from quadiv.select._deita import DEITASelector
from quadiv.select._dpp import DPPSelector
from quadiv.select._facility_location import FacilityLocation, facility_location_objective
from quadiv.select._mmr import MMRSelector
from quadiv.select._odis import ODiSSelector
from quadiv.select._prismatic import PrismaticSelector
from quadiv.select._quad import QuadSelector
from quadiv.select._quadmix import QuaDMixSelector
from quadiv.select._qvendi import QVendiSelector

__all__ = [
    "SELECTORS", "BalancedSelector", "ClusterSelector", "D3Selector", "DEITASelector", "DPPSelector", "DedupResult", "FacilityLocation",
    "KCenter", "MMRSelector", "ODiSSelector", "PrismaticSelector", "QVendiSelector", "QuaDMixSelector", "QuadSelector", "RandomSelector", "Selection",
    "Selector", "TopQuality", "budget_from", "dedup", "facility_location_objective", "get_selector", "knn_graph",
    "register", "select", "unit_quality",
]
