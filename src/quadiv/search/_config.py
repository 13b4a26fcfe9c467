"""SEARCH.toml: one file that names the algorithm, the models, the axes and the budget of a search.

``algorithm`` sets the published defaults (see :data:`ALGORITHMS`); every other key overrides one.
Unknown keys are errors, so a typo never runs a different search. See ``examples/search/`` for a
QDAIF-style story search and a Rainbow-style red-teaming grid.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quadiv.errors import InputError, UsageError
from quadiv.search._archive import ArchiveBase
from quadiv.search._axes import QDAIF_TICKS, Axis

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The published settings of each algorithm (GENERATION.md sec. 7): emitter, archive, filters.
ALGORITHMS: dict[str, dict[str, Any]] = {
    "qdaif": {"about": "QDAIF (Bradley et al. 2023): LMX few-shot crossover, judge fitness and descriptors, "
                       "one elite per cell", "emitter": "lmx", "archive": "grid", "similarity": None,
              "evaluate_seeds": True},
    "rainbow": {"about": "Rainbow Teaming (Samvelyan et al. 2024): rewrite toward a uniform target cell, axis by "
                         "axis; BLEU filter; pairwise contest with [contest]", "emitter": "rewrite", "archive": "grid",
                "similarity": 0.6, "evaluate_seeds": False},
    "rainbowplus": {"about": "RainbowPlus (Dang et al. 2025): 5 joint rewrites per parent, every child above "
                             "0.5 kept per cell", "emitter": "joint", "archive": "multi", "threshold": 0.5,
                    "similarity": 0.6, "num_mutations": 5, "seed_iterations": 150, "evaluate_seeds": False},
    "ferret": {"about": "Ferret (Pala et al. 2024): 5 rewrites toward a weak cell, the best by fitness contests "
                        "the cell", "emitter": "rewrite", "archive": "grid", "target": "weak", "num_mutations": 5,
               "keep_best": 1, "similarity": 0.6, "evaluate_seeds": False},
}
TOP = {"algorithm", "domain", "budget", "seed", "seeds", "seeds_file", "mutator", "target", "fitness", "axes",
       "learned", "archive", "contest", "filter", "metrics"}
MODEL = {"backend", "model", "base_url", "concurrency", "temperature", "max_tokens", "capabilities", "options"}
SECTIONS = {
    "mutator": MODEL | {"emitter", "template", "batch", "num_mutations", "num_fewshot", "neighbour_power", "seed_iterations",
                        "target", "weak_temperature"},
    "target": MODEL,
    "fitness": {"scorer", "params", "sampled"},
    "contest": {"scorer", "params", "sampled"},
    "archive": {"kind", "threshold", "cap", "qd_score_offset"},
    "filter": {"similarity", "require_target", "keep_best"},
    "metrics": {"embedder"},
    "learned": MODEL - {"model"} | {"judge", "embedder", "dims", "bins", "n_triplets", "margin", "lr", "epochs",
                                    "refit_at", "template"},
}
AXIS = {"name", "categories", "ticks", "bins", "range", "describe"}
DESCRIBE = {"judge", "scorer", "params", "sampled", "template", "samples"} | MODEL


@dataclass
class SearchConfig:
    """A parsed SEARCH.toml: the raw sections, checked, and where it came from."""

    path: Path
    algorithm: str
    domain: str
    budget: int
    seed: int
    seeds: list[str]
    axes: list[Axis]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    describe: list[Any] = field(default_factory=list)

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """``[section] key`` if given, else the algorithm's default, else ``default``."""
        value = self.sections.get(section, {}).get(key)
        return value if value is not None else ALGORITHMS[self.algorithm].get(key, default)

    def fingerprint(self) -> dict[str, Any]:
        """What must not change for ``--resume`` to continue the same search."""
        return {"algorithm": self.algorithm, "domain": self.domain, "axes": [repr(a) for a in self.axes],
                "sections": {k: v for k, v in self.sections.items() if k != "metrics"},
                "describe": self.describe}


def load_config(path: str | os.PathLike) -> SearchConfig:
    """Read and check SEARCH.toml; every problem is one InputError naming the file and the key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", path=str(path), fix="check the path of the search config") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot be read ({err})", path=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"not valid TOML ({err})", path=str(path), fix="see examples/search/ for the format") from None
    bad = _problem(path)
    _known(raw, TOP, "the top level", bad)
    algorithm = raw.get("algorithm", "qdaif")
    if algorithm not in ALGORITHMS:
        raise bad(f"unknown algorithm '{algorithm}'", f"choose one of {', '.join(ALGORITHMS)}")
    sections = {}
    for name, keys in SECTIONS.items():
        section = raw.get(name, {})
        if not isinstance(section, dict):
            raise bad(f"'{name}' must be a table ([{name}])", "see examples/search/")
        _known(section, keys, f"[{name}]", bad)
        sections[name] = section
    if "model" not in sections["mutator"]:
        raise bad("[mutator] needs 'model' (the model that writes children)", "add model = \"...\" to [mutator]")
    if "scorer" not in sections["fitness"]:
        raise bad("[fitness] needs 'scorer' (a quadiv quality scorer, e.g. \"judge:MODEL\")",
                  "add scorer = \"...\" to [fitness]")
    if sections["learned"]:
        axes, describe = _learned_axes(raw, sections["learned"], bad)
    else:
        axes, describe = _axes(raw.get("axes"), bad)
    return SearchConfig(path, algorithm, str(raw.get("domain", "texts")), _budget(raw.get("budget", 100), bad),
                        _integer(raw.get("seed", 0), "seed", bad), _seeds(raw, path, bad), axes, sections, describe)


def _problem(path: Path) -> Callable[[str, str], InputError]:
    return lambda message, fix: InputError(message, path=str(path), fix=fix)


def _known(table: dict, keys: set[str], where: str, bad: Callable) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise bad(f"unknown key {', '.join(map(repr, unknown))} in {where}", f"valid keys: {', '.join(sorted(keys))}")


def _integer(value: Any, name: str, bad: Callable) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"'{name}' must be an integer; got {value!r}", f"write {name} = 0")
    return value


def _budget(value: Any, bad: Callable) -> int:
    value = _integer(value, "budget", bad)
    if value < 1:
        raise bad(f"budget is the number of evaluations and must be >= 1; got {value}", "write budget = 100")
    return value


def _seeds(raw: dict, path: Path, bad: Callable) -> list[str]:
    if ("seeds" in raw) == ("seeds_file" in raw):
        raise bad("give the seed texts as 'seeds' (a list) or 'seeds_file' (one per line), one of the two",
                  "add seeds = [\"...\"]")
    if "seeds" in raw:
        seeds = raw["seeds"]
        if not isinstance(seeds, list) or not all(isinstance(s, str) for s in seeds):
            raise bad("'seeds' must be a list of strings", "write seeds = [\"first\", \"second\"]")
    else:
        file = (path.parent / raw["seeds_file"]).expanduser()
        try:
            seeds = file.read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise bad(f"cannot read seeds_file {file} ({err.strerror or err})", "check the path") from None
    seeds = [s.strip() for s in seeds if s.strip()]
    if not seeds:
        raise bad("no seed text: every seed is empty", "give at least one non-empty seed")
    return seeds


def _axes(raw: Any, bad: Callable) -> tuple[list[Axis], list[Any]]:
    if not isinstance(raw, list) or not raw:
        raise bad("no axes: a search needs at least one [[axes]] table", "add [[axes]] with name and categories")
    axes, describe = [], []
    for k, table in enumerate(raw, start=1):
        if not isinstance(table, dict):
            raise bad(f"axis {k} must be a table", "write [[axes]] tables")
        _known(table, AXIS, f"axis {k}", bad)
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise bad(f"axis {k} needs a 'name'", "add name = \"...\"")
        try:
            axes.append(_axis(name, table))
        except UsageError as err:
            raise bad(str(err), "an axis takes categories = [...], ticks = [...] or \"qdaif\", or bins and range") \
                from None
        spec = table.get("describe", "target")
        if isinstance(spec, dict):
            _known(spec, DESCRIBE, f"axis '{name}' describe", bad)
            if ("judge" in spec) == ("scorer" in spec):
                raise bad(f"axis '{name}' describe needs 'judge' (a model naming the category) or 'scorer' (a "
                          "numeric quality scorer, e.g. a yes/no judge)", "see examples/search/")
        elif spec != "target":
            raise bad(f"axis '{name}' describe must be \"target\" or a table; got {spec!r}", "see examples/search/")
        describe.append(spec)
    if "target" in describe and any(d != "target" for d in describe):
        raise bad("either every axis is described by its \"target\" cell, or none is",
                  "give every axis a describe table, or none")
    return axes, describe


def _learned_axes(raw: dict, learned: dict, bad: Callable) -> tuple[list[Axis], list[Any]]:
    """QDHF: ``dims`` learned axes in [0, 1], ``bins`` each; no [[axes]] beside them."""
    if "axes" in raw:
        raise bad("[learned] makes the axes itself (QDHF): remove the [[axes]] tables, or [learned]",
                  "keep one of the two")
    if "judge" not in learned:
        raise bad("[learned] needs 'judge' (the model that says which of two texts is closer to a third)",
                  "add judge = \"MODEL\" to [learned]")
    dims, bins = learned.get("dims", 2), learned.get("bins", 10)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (dims, bins)):
        raise bad(f"[learned] dims and bins must be integers >= 1; got {dims!r} and {bins!r}", "write dims = 2")
    return [Axis.numeric(f"learned_{k + 1}", bins) for k in range(dims)], ["learned"] * dims


def _axis(name: str, table: dict) -> Axis:
    if "categories" in table:
        categories = table["categories"]
        if not isinstance(categories, list):
            raise UsageError(f"axis '{name}': categories must be a list")
        return Axis(name, categories=tuple(categories))
    if "ticks" in table:
        ticks = QDAIF_TICKS if table["ticks"] == "qdaif" else table["ticks"]
        if not isinstance(ticks, (list, tuple)):
            raise UsageError(f"axis '{name}': ticks must be a list of numbers or \"qdaif\"")
        return Axis(name, ticks=tuple(ticks))
    if "bins" in table:
        low, high = table.get("range", (0.0, 1.0))
        return Axis.numeric(name, int(table["bins"]), float(low), float(high))
    raise UsageError(f"axis '{name}' needs categories, ticks or bins")


def build_search(config: SearchConfig) -> dict[str, Any]:
    """The keyword arguments of :func:`quadiv.search.run` that ``config`` describes (models are built here)."""
    from quadiv.search._emitters import EMITTERS

    mutator = config.sections["mutator"]
    emitter_kind = config.setting("mutator", "emitter")
    if emitter_kind not in ("lmx", "rewrite", "joint"):
        raise UsageError(f"[mutator] emitter must be lmx, rewrite or joint (rewrite, every axis at once); got "
                         f"'{emitter_kind}'")
    policy = {k: config.setting("mutator", k) for k in ("batch", "num_mutations", "seed_iterations", "weak_temperature")
              if config.setting("mutator", k) is not None}
    if config.setting("mutator", "target") is not None and emitter_kind != "lmx":
        policy["target"] = config.setting("mutator", "target")
    common = {"domain": config.domain, "template": mutator.get("template"), **policy,
              **{k: mutator[k] for k in ("temperature", "max_tokens") if k in mutator}}
    backend = _backend(mutator)
    if emitter_kind == "lmx":
        extra = {k: mutator[k] for k in ("num_fewshot", "neighbour_power") if k in mutator}
        emitter = EMITTERS.build("lmx", backend, **extra, **common)
    else:
        emitter = EMITTERS.build("rewrite", backend, joint=emitter_kind == "joint", **common)
    target = config.sections["target"]
    respond = _backend(target) if target else None
    filters = config.sections["filter"]
    return {"seeds": config.seeds, "mutate": emitter, "archive": _archive(config),
            "fitness": _scorer(config.sections["fitness"], "fitness", None),
            "descriptors": _describers(config), "respond": respond,
            "contest": _scorer(config.sections["contest"], "contest", "pairwise") if config.sections["contest"] else None,
            "similarity": filters.get("similarity", ALGORITHMS[config.algorithm]["similarity"]),
            "require_target": bool(filters.get("require_target", False)),
            "keep_best": config.setting("filter", "keep_best"),
            "evaluate_seeds": ALGORITHMS[config.algorithm]["evaluate_seeds"],
            "embed": _embedder(config.sections["metrics"].get("embedder", "static"))}


def _backend(section: dict[str, Any]) -> Any:
    from quadiv.generate import make_backend

    capabilities = section.get("capabilities")
    if isinstance(capabilities, str):
        capabilities = [c.strip() for c in capabilities.split(",") if c.strip()]
    return make_backend(section.get("backend", "openai"), section["model"], section.get("options"),
                        base_url=section.get("base_url"), concurrency=section.get("concurrency"),
                        capabilities=capabilities)


def _scorer(section: dict[str, Any], what: str, mode: str | None) -> Any:
    """A quality scorer; a judge that would sample instead of reading label probabilities is refused."""
    from quadiv.quality import get_scorer

    params = dict(section.get("params", {}))
    if mode is not None and section["scorer"].startswith("judge:"):
        params.setdefault("mode", mode)
    scorer = get_scorer(section["scorer"], **params)
    if getattr(scorer, "reads_logprobs", True) is False and params.get("mode") != "prometheus" \
            and not section.get("sampled", False):
        raise UsageError(f"the {what} judge reads label probabilities (top logprobs), which "
                         f"{scorer.backend.name} ({scorer.backend.model}) does not offer: serve the judge where "
                         "logprobs are returned (e.g. vLLM's server), or set sampled = true in its table to "
                         "estimate them from sampled replies")
    return scorer


def _describers(config: SearchConfig) -> Any:
    from quadiv.search._evaluate import JudgeCategory

    if all(d == "target" for d in config.describe):
        return "target"
    if config.sections["learned"]:
        from quadiv.search._qdhf import LearnedProjection, TripletJudge

        learned = config.sections["learned"]
        judge = TripletJudge(_backend({**learned, "model": learned["judge"]}), learned.get("template"))
        options = {k: learned[k] for k in ("n_triplets", "margin", "lr", "epochs", "refit_at") if k in learned}
        return LearnedProjection(learned.get("embedder", "static"), judge, dims=len(config.axes), **options)
    out = []
    for axis, spec in zip(config.axes, config.describe):
        if "judge" in spec:
            if not axis.categorical:
                raise UsageError(f"axis '{axis.name}': a judge names a category, so the axis needs categories; "
                                 "for a numeric axis use scorer = \"judge:MODEL\" with a yes/no prompt")
            backend = _backend({**spec, "model": spec["judge"]})
            out.append(JudgeCategory(backend, axis.name, axis.categories, spec.get("template"),
                                     int(spec.get("samples", 1))))
        else:
            if axis.categorical:
                raise UsageError(f"axis '{axis.name}' has categories: describe it with judge = \"MODEL\", "
                                 "which names one; a scorer gives numbers")
            out.append(_scorer(spec, f"'{axis.name}' descriptor", "yesno"))
    return out


def _archive(config: SearchConfig) -> ArchiveBase:
    from quadiv.search._multi import MultiElementArchive
    from quadiv.search._ribs import RibsArchive

    kind = config.setting("archive", "kind") or ALGORITHMS[config.algorithm]["archive"]
    offset = float(config.sections["archive"].get("qd_score_offset", 0.0))
    if kind == "grid":
        return RibsArchive.grid(config.axes, qd_score_offset=offset, seed=config.seed)
    if kind == "multi":
        return MultiElementArchive(config.axes, threshold=config.setting("archive", "threshold"),
                                   cap=config.sections["archive"].get("cap"), qd_score_offset=offset)
    raise UsageError(f"[archive] kind must be grid (one elite per cell, pyribs) or multi (a list per cell); "
                     f"got '{kind}'")


def _embedder(name: Any) -> str | None:
    if name in (None, False, "none", ""):
        return None
    if not isinstance(name, str):
        raise UsageError(f"[metrics] embedder must be an embedder name or \"none\"; got {name!r}")
    return name


def run_config(config: SearchConfig, output: str | os.PathLike, *, resume: bool = False,
               progress: Callable[[int], None] | None = None) -> ArchiveBase:
    """Run the search ``config`` describes, writing the archive to ``output`` (resumable with ``resume``)."""
    from quadiv.search._runner import run

    return run(**build_search(config), budget=config.budget, seed=config.seed, output=output, resume=resume,
               settings=config.fingerprint(), progress=progress)
