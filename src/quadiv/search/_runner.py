"""`run`: a MAP-Elites loop over texts, journaled so that a stopped search resumes to the same archive.

Each iteration asks the emitter for children, drops near-copies (BLEU), lets the target model answer
(red teaming), scores fitness and descriptors, optionally keeps only the best few (Ferret), contests
occupied cells pairwise (Rainbow Teaming), and inserts. Randomness of iteration i comes only from
``numpy.random.default_rng([seed, i])``, and every evaluated child (with its verdicts) is appended to
the journal, so ``resume`` replays the journal into an empty archive and continues exactly where the
stopped run was: with the same replies, the same archive as an uninterrupted run.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quadiv.errors import InputError, SearchError, UsageError
from quadiv.search._archive import ArchiveBase, Elite
from quadiv.search._emitters import Child, Emitter, as_emitter
from quadiv.search._evaluate import SimilarityFilter, as_contest, as_descriptors, as_fitness, as_responder


@dataclass
class _Parts:
    emitter: Emitter
    fitness: Callable
    describe: Callable | None
    contest: Callable | None
    respond: Callable | None
    similarity: SimilarityFilter | None
    require_target: bool
    keep_best: int | None


def run(seeds: Sequence[str], mutate: Any, fitness: Any, descriptors: Any, archive: ArchiveBase, budget: int,
        seed: int = 0, *, respond: Any = None, contest: Any = None, similarity: float | None = None,
        require_target: bool = False, keep_best: int | None = None, evaluate_seeds: bool = True,
        embed: Any = None, output: str | os.PathLike | None = None, resume: bool = False,
        settings: dict[str, Any] | None = None, checkpoint_every: int = 10, patience: int = 50,
        progress: Callable[[int], None] | None = None) -> ArchiveBase:
    """Search for ``budget`` evaluations; return the archive, filled, with ``archive.history`` per iteration.

    The archive returned is ``archive`` itself, or a rebuilt one when a learned projection (QDHF) refits.

    ``mutate``: an emitter, or a function ``parent -> text(s)`` / ``(parent, target) -> text(s)``.
    ``fitness``: a quality scorer or a function ``text -> float``. ``descriptors``: "target", a function
    ``text -> values``, or one describer per axis (see :func:`as_descriptors`). ``respond``: the target
    model (a backend or a function), whose response is what fitness and descriptors see. ``contest``: a
    pairwise judge deciding whether a child replaces its cell's incumbent. ``similarity``: the BLEU above
    which a child too close to its parent or batch is dropped (None, the default: keep all; Rainbow: 0.6). ``require_target``: drop a
    child whose descriptors miss the cell it was written for. ``keep_best``: evaluate all, insert only the
    best k per iteration. ``embed``: an embedder name or function texts -> unit rows, for the elites' Vendi
    score each iteration. ``output``: write the archive (JSONL, and ``.search.json`` beside it) every
    ``checkpoint_every`` iterations and at the end, journaling to ``output + '.journal'``; ``resume``
    continues that journal (``settings`` must match the stopped run's), also to a larger budget after
    the search finished. An existing ``output`` is never overwritten but by its own resumed search.
    """
    seeds = _check(seeds, budget, patience)
    parts = _Parts(as_emitter(mutate), as_fitness(fitness), as_descriptors(descriptors, len(archive.axes)),
                   as_contest(contest), as_responder(respond), SimilarityFilter(similarity) if similarity else None,
                   require_target, keep_best)
    if parts.describe is None and not archive.axes:
        raise UsageError("`descriptors` 'target' needs an archive with axes: give a descriptor function for this one")
    learner = descriptors if hasattr(descriptors, "refit") else None
    archive.history = []
    journal = _open_journal(output, settings, seed, seeds, resume)
    vendi_of = _vendi(embed)
    try:
        archive, evaluations, iteration = _replay_journal(journal, archive, learner, parts)
        if progress is not None and evaluations:
            progress(evaluations)
        stalled = 0
        while evaluations < budget:
            refit = None
            if learner is not None and iteration in learner.refit_at:
                views = [*seeds, *(_elite_view(e) for e in archive.elites())]
                refit = learner.refit(views, np.random.default_rng([seed, iteration, 1]))
                archive = _rebuilt(archive, learner)
            if iteration == 0 and evaluate_seeds:
                children = [Child(s, None, s) for s in seeds[:budget - evaluations]]
            else:
                rng = np.random.default_rng([seed, iteration])
                children = _filtered(parts, parts.emitter.ask(archive, seeds, rng, iteration, budget - evaluations))
            logged = _evaluate(parts, archive, children, iteration)
            evaluations += len(logged)
            stalled = 0 if logged else stalled + 1
            if stalled > patience:
                raise SearchError(f"no child survived the filters in {patience} iterations in a row: loosen "
                                  "`similarity`, check the mutator's replies, or give other seeds")
            archive.history.append(_stats(archive, logged, iteration, evaluations, parts.emitter.calls, vendi_of))
            if journal is not None:
                journal.append([{"iteration": iteration, "evaluations": evaluations, "children": logged,
                                 "history": archive.history[-1], **({"refit": refit} if refit is not None else {})}])
                if (iteration + 1) % checkpoint_every == 0:
                    write_archive(archive, output, _summary(archive, settings, budget, seed, False))
            if progress is not None and logged:
                progress(len(logged))
            iteration += 1
    except BaseException:
        if journal is not None:
            journal.close()
        raise
    if journal is not None:
        write_archive(archive, output, _summary(archive, settings, budget, seed, True))
        journal.close()  # kept: the log of every evaluation, so that `resume` with a larger budget goes on
    return archive


def _replay_journal(journal: Any, archive: ArchiveBase, learner: Any, parts: _Parts) -> tuple[ArchiveBase, int, int]:
    """The archive as the journaled iterations left it; (archive, evaluations, next iteration)."""
    evaluations, iteration = 0, 0
    for row in (journal.rows().values() if journal is not None else ()):
        if "refit" in row:
            learner.set_state(row["refit"])
            archive = _rebuilt(archive, learner)
        _replay(archive, row)
        evaluations, iteration = row["evaluations"], row["iteration"] + 1
        archive.history.append(row["history"])
        parts.emitter.calls = row["history"]["calls"]
    return archive, evaluations, iteration


def _stats(archive: ArchiveBase, logged: list[dict], iteration: int, evaluations: int, calls: int,
           vendi_of: Callable[[ArchiveBase], float | None]) -> dict[str, Any]:
    """One row of the history: the archive's statistics, its Vendi score, and why children were left out so far."""
    dropped = dict(archive.history[-1]["dropped"]) if archive.history else {}
    for row in logged:
        if row["dropped"] is not None:
            dropped[row["dropped"]] = dropped.get(row["dropped"], 0) + 1
    return {"iteration": iteration, "evaluations": evaluations, "calls": calls, **archive.stats(),
            "vendi": vendi_of(archive), "dropped": dropped}


def _check(seeds: Sequence[str], budget: int, patience: int) -> list[str]:
    if isinstance(seeds, str):
        raise UsageError("`seeds` must be a list of texts, not one string: wrap it in a list")
    seeds = [s for s in seeds if isinstance(s, str) and s.strip()]
    if not seeds:
        raise UsageError("a search needs at least one non-empty seed text")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise UsageError(f"`budget` is the number of evaluations and must be >= 1; got {budget!r}")
    if patience < 1:
        raise UsageError(f"`patience` must be >= 1 iterations; got {patience}")
    return seeds


def _filtered(parts: _Parts, children: list[Child]) -> list[Child]:
    children = [c for c in children if c.text.strip()]
    if parts.similarity is None or not children:
        return children
    keep = parts.similarity.keep([c.text for c in children], [c.parent_text for c in children])
    return [c for c, k in zip(children, keep) if k]


def _evaluate(parts: _Parts, archive: ArchiveBase, children: list[Child], iteration: int) -> list[dict]:
    """Score, describe, rank, contest and insert ``children``; one journal dict per evaluated child."""
    if not children:
        return []
    texts = [c.text for c in children]
    responses = parts.respond(texts) if parts.respond is not None else None
    seen, prompts = (responses, texts) if responses is not None else (texts, [None] * len(texts))
    fitness = parts.fitness(list(seen), list(prompts))
    described = parts.describe(list(seen), list(prompts)) if parts.describe is not None else [c.target for c in children]
    logged = []
    for k, (child, value, desc) in enumerate(zip(children, fitness, described)):
        row = {"id": f"{iteration}-{k}", "text": child.text, "parent": child.parent.id if child.parent else None,
               "target": list(child.target) if child.target is not None else None, "fitness": _json_float(value),
               "descriptors": list(desc) if desc is not None else None, "wins": None, "dropped": None}
        if responses is not None:
            row["response"] = responses[k]
        row["dropped"] = _dropped(parts, archive, child, value, desc)
        logged.append(row)
    _rank(parts, logged)
    _contest(parts, archive, logged)
    for row in logged:
        if row["dropped"] is None:
            row["inserted"] = archive.add(_elite(row, iteration), row["wins"])
    return logged


def _dropped(parts: _Parts, archive: ArchiveBase, child: Child, value: float, desc: tuple | None) -> str | None:
    if value is None or not math.isfinite(value):
        return "fitness is not a number"
    if desc is None or any(v is None or (isinstance(v, float) and math.isnan(v)) for v in desc):
        return "no descriptor"
    if archive.axes and archive.cell_of(desc) is None:
        return "descriptors outside every cell"
    if parts.require_target and child.target is not None:
        cell = archive.cell_of(desc)
        if tuple(a.labels[i] for a, i in zip(archive.axes, cell)) != tuple(child.target):
            return "missed its target cell"
    return None


def _rank(parts: _Parts, logged: list[dict]) -> None:
    """Ferret: of the children still in, only the ``keep_best`` fittest go on to the archive."""
    if parts.keep_best is None:
        return
    alive = sorted((r for r in logged if r["dropped"] is None), key=lambda r: -r["fitness"])
    for row in alive[parts.keep_best:]:
        row["dropped"] = "not among the best of its batch"


def _contest(parts: _Parts, archive: ArchiveBase, logged: list[dict]) -> None:
    """Pairwise verdicts against incumbents, in rounds so that two children of one cell meet in turn.

    The judge sees what was evaluated: the target model's responses when there is one, else the texts.
    """
    if parts.contest is None or not archive.holds_one:
        return
    pending = [r for r in logged if r["dropped"] is None]
    holders: dict[tuple, str] = {}  # cell -> what its holder shows, after the earlier rounds
    while pending:
        first: dict[tuple, dict] = {}
        for row in pending:
            first.setdefault(archive.cell_of(row["descriptors"]), row)
        batch = []
        for cell, row in first.items():
            if cell not in holders and (incumbent := archive.incumbent(cell)) is not None:
                holders[cell] = incumbent.extras.get("response", incumbent.text)
            if cell in holders:
                batch.append((cell, row))
            else:
                holders[cell] = _view(row)  # an empty cell: the first child takes it without a contest
        verdicts = parts.contest([(_view(r), holders[c], r["text"]) for c, r in batch]) if batch else []
        for (cell, row), wins in zip(batch, verdicts):
            row["wins"] = bool(wins)
            if wins:
                holders[cell] = _view(row)
        pending = [r for r in pending if r not in first.values()]


def _view(row: dict) -> str:
    return row["response"] if row.get("response") is not None else row["text"]


def _elite(row: dict, iteration: int) -> Elite:
    extras = {k: row[k] for k in ("response", "target") if row.get(k) is not None}
    return Elite(row["id"], row["text"], row["fitness"], tuple(row["descriptors"]), None, row["parent"], iteration,
                 extras)


def _elite_view(elite: Elite) -> str:
    return elite.extras.get("response", elite.text)


def _rebuilt(archive: ArchiveBase, learner: Any) -> ArchiveBase:
    """The elites re-described by the refitted ``learner`` and re-inserted into an empty archive (QDHF)."""
    elites = archive.elites()
    new = archive.empty_like()
    new.history = archive.history
    if elites:
        for elite, desc in zip(elites, learner.describe([_elite_view(e) for e in elites], [None] * len(elites))):
            elite.descriptors, elite.cell = tuple(desc), None
            new.add(elite)
    return new


def _replay(archive: ArchiveBase, row: dict) -> None:
    for child in row["children"]:
        if child["dropped"] is None:
            inserted = archive.add(_elite(child, row["iteration"]), child["wins"])
            if inserted != child["inserted"]:
                raise InputError(f"replaying iteration {row['iteration']} gave another archive than the run that "
                                 "wrote the journal", fix="delete the journal to start again")


def _json_float(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _vendi(embed: Any) -> Callable[[ArchiveBase], float | None]:
    """The elites' Vendi score (``quadiv.measure.vendi``, cosine kernel) by ``embed``, or None without it."""
    if embed is None:
        return lambda archive: None

    def vendi_of(archive: ArchiveBase) -> float | None:
        from quadiv.measure import vendi

        texts = [e.text for e in archive.elites()]
        if not texts:
            return None
        if isinstance(embed, str):
            from quadiv.embed import embed as embed_texts

            X = embed_texts(texts, embed)
        else:
            X = np.asarray(embed(texts), dtype=np.float32)
        return float(vendi(X, normalize=True))
    return vendi_of


def summary_path(output: str | os.PathLike) -> Path:
    """The summary written beside ``output``: its suffix replaced by ``.search.json``."""
    return Path(output).with_suffix(".search.json")


def _summary(archive: ArchiveBase, settings: dict | None, budget: int, seed: int, complete: bool) -> dict:
    return {"kind": "search", "algorithm": (settings or {}).get("algorithm", "custom"), "complete": complete,
            "budget": budget, "seed": seed, "num_cells": archive.num_cells,
            "axes": [{"name": a.name, "labels": a.labels} for a in archive.axes],
            "stats": archive.history[-1] if archive.history else archive.stats(), "history": archive.history}


HISTORY_COLUMNS = ("iteration", "evaluations", "calls", "qd_score", "coverage", "num_elites", "best", "mean", "vendi")


def history_path(output: str | os.PathLike) -> Path:
    """The per-iteration table written beside ``output``: its suffix replaced by ``.history.csv``."""
    return Path(output).with_suffix(".history.csv")


def write_archive(archive: ArchiveBase, output: str | os.PathLike, summary: dict) -> list[str]:
    """The elites to ``output`` (JSONL), ``summary`` beside it, and the history as CSV, each atomically.

    The CSV (:data:`HISTORY_COLUMNS`, one row per iteration) is a table that `quadiv front --from` and
    any spreadsheet read.
    """
    import csv

    from quadiv.io import atomic_write

    summary = {**summary, "archive": Path(output).name}
    with atomic_write(output) as handle:
        handle.writelines(json.dumps(r, ensure_ascii=False, default=_plain) + "\n" for r in archive.records())
    with atomic_write(summary_path(output)) as handle:
        json.dump(summary, handle, ensure_ascii=False, indent=1, default=_plain)
    with atomic_write(history_path(output)) as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY_COLUMNS)
        writer.writerows([row.get(c) if row.get(c) is not None else "" for c in HISTORY_COLUMNS]
                         for row in summary.get("history", []))
    return [os.fspath(output), os.fspath(summary_path(output)), os.fspath(history_path(output))]


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _open_journal(output: str | os.PathLike | None, settings: dict | None, seed: int, seeds: list[str], resume: bool):
    if output is None:
        if resume:
            raise UsageError("`resume` continues the journal of an `output`: give the output path")
        return None
    from quadiv.generate import Journal, journal_path

    if not str(output).lower().endswith((".jsonl", ".ndjson")):
        raise UsageError(f"the archive is written as JSONL: give an output path ending in .jsonl; got {output}")
    if not Path(output).parent.is_dir():
        raise UsageError(f"the folder of {output} does not exist: create it or choose another output")
    journal = journal_path(output)
    if Path(output).exists() and not (resume and journal.exists()):
        why = "no journal beside it to resume" if resume else "a new search would replace it (pass `resume` to continue)"
        raise UsageError(f"{output} already exists and {why}: choose another output, or delete it")
    recorded = json.loads(json.dumps({**(settings or {}), "seed": seed, "seeds": seeds}, default=str))
    return Journal.open(journal, recorded, resume, key=_iteration_key)


def _iteration_key(row: Any) -> int:
    if not isinstance(row, dict) or not isinstance(row.get("iteration"), int) \
            or not isinstance(row.get("children"), list) or not isinstance(row.get("history"), dict):
        raise ValueError("is not a finished search iteration (iteration, children, history)")  # noqa: TRY004
    return row["iteration"]
