"""Checks a result (and its optional rows) and shapes what each section of the page draws."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np

from quadiv.errors import InputError, UsageError
from quadiv.measure import harmony
from quadiv.report._escape import plain

KINDS = ("front", "select", "measure", "search")
ROW_KEYS = ("quality_before", "quality_after", "groups", "map", "chosen_rows", "rejected_rows")
MAX_SAMPLE_ROWS = 50
MAX_SAMPLE_COLUMNS = 8
MAX_CELL_CHARS = 300
MAX_BINS = 40


ACCEPTED = ("the JSON that `quadiv front -o`, `quadiv select --json` or `quadiv measure --json` wrote, or the "
            "ARCHIVE.jsonl (or its ARCHIVE.search.json) that `quadiv search` wrote")


def detect_kind(result: object) -> str:
    """Which result this is: "search" ('kind': 'search'), "front" (has points), "select" (before/after
    metrics) or "measure"."""
    if not isinstance(result, Mapping):
        raise InputError(f"not a quadiv result: a JSON {json_type(result)}, not an object", fix=f"pass {ACCEPTED}")
    if result.get("kind") == "search":
        return "search"
    if "points" in result:
        return "front"
    metrics = result.get("metrics")
    if isinstance(metrics, Mapping) and "before" in metrics and "after" in metrics:
        return "select"
    if isinstance(metrics, Mapping):
        return "measure"
    keys = f"its keys: {', '.join(map(str, result))}" if result else "an empty object"
    raise InputError(f"not a quadiv result: no 'points' or 'metrics' object, nor 'kind': 'search' ({keys})",
                     fix=f"pass {ACCEPTED}")


def json_type(value: object) -> str:
    """The JSON name of a value's type: object, array, string, number, boolean or null."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def missing_panels(result: Mapping, kind: str, rows: Mapping | None) -> list[str]:
    """The panels a result alone cannot draw (they need the pool's rows), as one sentence each; [] with rows.

    A search result has no rows: its notes say when its archive has no axes (no heatmap) or no history (no curve).
    """
    if kind == "search":
        return _search_missing(result)
    if rows is not None or kind not in KINDS:
        return []
    if kind == "front":
        points = result.get("points")
        metrics = [p.get("metrics") for p in points if isinstance(p, Mapping)] if isinstance(points, list) else []
    else:
        metrics = result.get("metrics")
        metrics = [metrics.get("before", metrics) if kind == "select" else metrics] if isinstance(metrics, Mapping) else []
    has_quality = any(isinstance(m, Mapping) and "quality_mean" in m for m in metrics)
    if kind == "measure":
        panels = ["the quality distribution"] * has_quality + ["the embedding map"]
        how = "`quadiv measure ... --report R.html`"
    else:
        panels = [*["the quality distribution", "quality by group (when the run had groups)"] * has_quality,
                  "the embedding map", "the sample rows"]
        how = "`quadiv select ... --report R.html`" if kind == "select" else "`quadiv front INPUT ... --report R.html`"
    of = "" if kind != "front" else " of the knee's selection"
    note = (f"not drawn: {', '.join(panels)}{of}: they need the pool's rows and embeddings, which a {kind} "
            f"result does not hold; to draw them, run {how}")
    return [note]


def page_data(result: Mapping, kind: str, rows: Mapping | None) -> dict:
    """Everything the page shows, as plain JSON values; sections without data are left out."""
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    if not isinstance(result, Mapping):
        raise InputError(f"a {kind} result must be a JSON object; got a JSON {json_type(result)}")
    missing = missing_panels(result, kind, rows)
    data: dict = {"kind": kind, **_SUMMARIES[kind](result), "missing": missing}
    if kind == "search":
        if rows is not None:
            raise UsageError("a search report draws everything from its archive: it takes no rows")
        data.update(_search_sections(result))
    else:
        rows = _check_rows(rows)
        data.update({"groups": _groups(result, kind, rows.get("groups")),
                     "hist": _histograms(rows.get("quality_before"), rows.get("quality_after")),
                     "map": _map(rows.get("map")),
                     "samples": _samples(rows.get("chosen_rows"), rows.get("rejected_rows"))})
    return plain({name: value for name, value in data.items() if value is not None})


def _check_rows(rows: Mapping | None) -> Mapping:
    if rows is None:
        return {}
    if not isinstance(rows, Mapping):
        raise UsageError(f"rows must be a dict with keys among {', '.join(ROW_KEYS)}; got {type(rows).__name__}")
    unknown = sorted(set(map(str, rows)) - set(ROW_KEYS))
    if unknown:
        raise UsageError(f"rows has unknown keys {', '.join(unknown)}; expected keys among {', '.join(ROW_KEYS)}")
    return rows


def _need(result: Mapping, key: str, kind: str, types: type | tuple) -> object:
    value = result.get(key)
    if not isinstance(value, types):
        raise InputError(f"a {kind} result needs '{key}' ({_type_names(types)}); got {json_type(value)}",
                         fix=f"pass the JSON that `quadiv {kind}` wrote")
    return value


def _type_names(types: type | tuple) -> str:
    names = {Mapping: "an object", list: "an array"}
    return " or ".join(names.get(t, t.__name__) for t in (types if isinstance(types, tuple) else (types,)))


# Summaries: key-value pairs and a metric table, per kind.

def _front_summary(result: Mapping) -> dict:
    front = _front(result)
    names = [f"{o['name']} ({o['direction']})" for o in front["objectives"]]
    on_front = [m for m in front["markers"] if any(front["points"][i]["pareto"] for i in m)]
    count = sum(p["pareto"] for p in front["points"])
    pairs = [("objectives", ", ".join(names)), ("points", len(front["points"])),
             ("on the Pareto front", f"{count} ({len(on_front)} distinct)" if on_front and len(on_front) < count else count)]
    hv = front.get("hypervolume")
    if hv:
        pairs.append(("hypervolume", f"{fmt(hv.get('value'))} (reference {fmt(hv.get('reference'))})"))
    if front["knee"] is not None:
        knee = front["points"][front["knee"]]
        pairs.append(("knee", f"{knee['method']} {params_text(knee['params'])}".strip()))
    same = {i: f"point {m[0]}" for m in front["markers"] for i in m[1:]}
    columns = ["point", "method", "params", *(o["name"] for o in front["objectives"]), "pareto",
               *(["same values as"] if same else [])]
    table = [[i, p["method"], params_text(p["params"]), *(fmt(p["metrics"].get(o["name"]))
              for o in front["objectives"]), "yes" if p["pareto"] else "", *([same.get(i, "")] if same else [])]
             for i, p in enumerate(front["points"])]
    return {"title": "Pareto front", "pairs": pairs, "table": {"columns": columns, "rows": table},
            "front": front if len(front["objectives"]) >= 2 else None}


def _select_summary(result: Mapping) -> dict:
    metrics = _need(result, "metrics", "select", Mapping)
    before, after = metrics.get("before"), metrics.get("after")
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        raise InputError("a select result needs 'metrics': {'before': {...}, 'after': {...}}",
                         fix="pass the JSON that `quadiv select --json` wrote")
    keys = ("method", "budget", "selected", "objective", "tradeoff", "embedder", "output")
    pairs = [(key, fmt(result[key])) for key in keys if key in result]
    names = list(dict.fromkeys([*before, *after]))
    table = [[name, fmt(before.get(name)), fmt(after.get(name)), fmt(_change(before.get(name), after.get(name)))]
             for name in names]
    title = f"selection: {result.get('method', '')}, {result.get('selected', '?')} chosen"
    return {"title": title, "pairs": pairs,
            "table": {"columns": ["metric", "before", "after", "change"], "rows": table}}


def _measure_summary(result: Mapping) -> dict:
    metrics = _need(result, "metrics", "measure", Mapping)
    groups = result.get("groups") or {}
    if not isinstance(groups, Mapping):
        raise InputError(f"a measure result's 'groups' must be an object; got {type(groups).__name__}")
    keys = ("n", "embedder", "field", "worst_group")
    pairs = [(key.replace("_", " "), fmt(result[key])) for key in keys if result.get(key) is not None]
    columns = ["metric", "all", *(f"{g} (n={_group(groups, g).get('n', '?')})" for g in groups)]
    table = [[name, fmt(value), *(fmt(_group(groups, g).get(name)) for g in groups)]
             for name, value in metrics.items()]
    return {"title": f"measure: {fmt(result.get('n', '?'))} items", "pairs": pairs,
            "table": {"columns": columns, "rows": table}}


def _search_summary(result: Mapping) -> dict:
    stats = _need(result, "stats", "search", Mapping)
    axes = search_axes(result)
    keys = ("algorithm", "archive", "budget", "seed", "num_cells")
    pairs = [(key.replace("_", " "), fmt(result[key])) for key in keys if result.get(key) is not None]
    if axes:
        pairs.append(("axes", " × ".join(f"{axis['name']} ({len(axis['labels'])})" for axis in axes)))
    pairs += [(key.replace("_", " "), fmt(value)) for key, value in stats.items()]
    elites = result.get("elites")
    title = f"search: {fmt(result.get('algorithm', '?'))}, {len(elites) if isinstance(elites, list) else '?'} elites"
    return {"title": title, "pairs": pairs}


_SUMMARIES = {"front": _front_summary, "select": _select_summary, "measure": _measure_summary,
              "search": _search_summary}


def _group(groups: Mapping, label: object) -> Mapping:
    value = groups[label]
    if not isinstance(value, Mapping):
        raise InputError(f"group {label!r} of a measure result must be an object of metrics; "
                         f"got {type(value).__name__}")
    return value


def _change(before: object, after: object) -> float | None:
    if _is_number(before) and _is_number(after):
        return float(after) - float(before)
    return None


def _is_number(value: object) -> bool:
    """A finite number that a float can hold (JSON integers may be larger)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def fmt(value: object) -> str:
    """A value as short text: numbers to 4 significant digits, None as empty, others as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value) if isinstance(value, (int, bool, np.integer)) else json.dumps(plain(value))


def params_text(params: Mapping) -> str:
    return ", ".join(f"{key}={fmt(value)}" for key, value in params.items())


# The Pareto chart.

def _front(result: Mapping) -> dict:
    objectives = _need(result, "objectives", "front", Mapping)
    for name, direction in objectives.items():
        if direction not in ("max", "min"):
            raise InputError(f"objective {name!r} has direction {direction!r}; expected 'max' or 'min'")
    points = [_point(i, p) for i, p in enumerate(_need(result, "points", "front", list))]
    knee = result.get("knee")
    if knee is not None and (isinstance(knee, bool) or not isinstance(knee, int) or not 0 <= knee < len(points)):
        raise InputError(f"'knee' must index one of the {len(points)} points; got {knee!r}")
    hv = result.get("hypervolume")
    budgets = list(dict.fromkeys(fmt(p["params"].get("budget")) for p in points))
    for p in points:
        p["series"] = p["method"] + (f", budget {fmt(p['params'].get('budget'))}" if len(budgets) > 1 else "")
    names = [str(n) for n in objectives]
    markers = _markers(points, names[:2]) if len(names) >= 2 else []
    shared = sum(len(m) for m in markers if len(m) > 1)
    notes = []
    if shared:
        notes.append(f"{shared} settings share {sum(len(m) > 1 for m in markers)} markers: their values of "
                     f"{names[0]} and {names[1]} are identical; rest the pointer on a marker for its settings")
    return {"objectives": [{"name": n, "direction": d} for n, d in zip(names, objectives.values())],
            "points": points, "knee": knee, "hypervolume": hv if isinstance(hv, Mapping) else None,
            "markers": markers, "notes": notes}


def _markers(points: list[dict], names: list[str]) -> list[list[int]]:
    """Indices of the points drawn at each position: points with identical values of both plotted objectives."""
    at: dict[tuple, list[int]] = {}
    for i, p in enumerate(points):
        xy = tuple(_number(p["metrics"].get(name)) for name in names)
        if None not in xy:
            at.setdefault(xy, []).append(i)
    return list(at.values())


def _point(i: int, point: object) -> dict:
    if not isinstance(point, Mapping) or not isinstance(point.get("metrics"), Mapping):
        raise InputError(f"points[{i}] must be an object with a 'metrics' object; got {point!r:.80}")
    params = point.get("params") or {}
    if not isinstance(params, Mapping):
        raise InputError(f"points[{i}].params must be an object; got {type(params).__name__}")
    return {"method": str(point.get("method", "")), "params": dict(params), "metrics": dict(point["metrics"]),
            "pareto": bool(point.get("pareto", False))}


# Per-group bars.

def _groups(result: Mapping, kind: str, given: Mapping | None) -> dict | None:
    if given is not None:
        return _given_groups(given)
    groups = result.get("groups") if kind == "measure" else None
    if not groups:
        return None
    labels = [str(g) for g in groups]
    names = [m for m in dict.fromkeys(m for g in groups.values() for m in g) if m != "n"]
    metrics = {m: {"all": [_number(groups[g].get(m)) for g in groups]} for m in names}
    metric = "quality_mean" if "quality_mean" in metrics else (names[0] if names else None)
    if metric is None:
        return None
    worst = result.get("worst_group")
    notes = [f"worst group: {worst}"] if worst is not None else []
    value = result["metrics"].get("harmony_quality")
    notes += [f"harmony of group quality: {fmt(value)}"] if _is_number(value) else []
    return {"labels": labels, "n": [groups[g].get("n") for g in groups], "metrics": metrics, "metric": metric,
            "worst": None if worst is None else str(worst), "notes": notes}


def _given_groups(given: Mapping) -> dict:
    """rows["groups"] = {"labels": [g...], "quality": {series: [mean per group]}, "n": {series: [...]}}."""
    labels = given.get("labels")
    series = given.get("quality")
    if not isinstance(labels, Sequence) or not isinstance(series, Mapping) or not series:
        raise UsageError("rows['groups'] must be {'labels': [group...], 'quality': {series: [mean per group]}}"
                         " (quadiv.report.group_rows builds it)")
    for name, values in series.items():
        if len(values) != len(labels):
            raise UsageError(f"rows['groups']['quality'][{name!r}] has {len(values)} values for {len(labels)} labels")
    series = {str(name): [_number(v) for v in values] for name, values in series.items()}
    last = list(series)[-1]
    notes, worst = [], _worst(labels, series[last])
    if worst is not None:
        notes.append(f"worst group ({last}): {worst}")
    for name, values in series.items():
        h = _harmony(values)
        notes += [f"harmony of group quality ({name}): {fmt(h)}"] if h is not None else []
    sizes = given.get("n")
    n = sizes.get(last) if isinstance(sizes, Mapping) else None
    return {"labels": [str(g) for g in labels], "n": n, "metrics": {"quality_mean": series},
            "metric": "quality_mean", "worst": worst, "notes": notes}


def _worst(labels: Sequence, values: list) -> str | None:
    finite = [(v, str(g)) for g, v in zip(labels, values) if v is not None]
    return min(finite, key=lambda pair: pair[0])[1] if finite else None


def _harmony(values: list) -> float | None:
    """Harmony (quadiv.measure.harmony) of group means when defined: >= 2 groups, non-negative, not all 0."""
    if len(values) < 2 or any(v is None or v < 0 for v in values) or sum(values) == 0:
        return None
    return harmony(values)


def _number(value: object) -> float | None:
    return float(value) if _is_number(value) else None


# Quality histograms.

def _histograms(before: Sequence[float] | None, after: Sequence[float] | None) -> dict | None:
    """Shared bin edges; each series as fractions of its own finite values, so sizes can differ."""
    series = {name: _finite(values, name) for name, values in (("before", before), ("after", after))
              if values is not None}
    series = {name: values for name, values in series.items() if values.size}
    if not series:
        return None
    pooled = np.concatenate(list(series.values()))
    edges = np.histogram_bin_edges(pooled, bins="auto")
    if edges.size - 1 > MAX_BINS:
        edges = np.histogram_bin_edges(pooled, bins=MAX_BINS)
    out = {"edges": edges.tolist(), "series": []}
    for name, values in series.items():
        counts, _ = np.histogram(values, bins=edges)
        label = name if len(series) > 1 else "quality"
        out["series"].append({"name": label, "n": int(values.size), "mean": float(values.mean()),
                              "fractions": (counts / values.size).tolist()})
    return out


def _finite(values: Sequence[float], name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise UsageError(f"rows['quality_{name}'] must be a list of numbers") from None
    return arr[np.isfinite(arr)]


# The 2-D map and the row samples.

def _map(given: Mapping | None) -> dict | None:
    """Coordinates rounded to 4 digits of their range, chosen as 0/1, labels as indices into "names"."""
    if given is None:
        return None
    if not isinstance(given, Mapping) or "x" not in given or "y" not in given:
        raise UsageError("rows['map'] must be {'x': [...], 'y': [...], 'chosen': [bool], 'label': [...]} "
                         "(quadiv.report.map_rows builds it)")
    n = len(given["x"])
    for key in ("y", "chosen", "label"):
        if key in given and len(given[key]) != n:
            raise UsageError(f"rows['map']['{key}'] has {len(given[key])} values; 'x' has {n}")
    if not n:
        return None
    out = {"x": _rounded(given["x"]), "y": _rounded(given["y"])}
    if "chosen" in given:
        out["chosen"] = [int(bool(v)) for v in given["chosen"]]
    if "label" in given:
        names, index = np.unique(np.asarray([str(v) for v in given["label"]]), return_inverse=True)
        out["names"], out["label"] = names.tolist(), index.reshape(-1).tolist()
    total = given.get("total", n)
    if not isinstance(total, int) or total < n:
        raise UsageError(f"rows['map']['total'] must be the number of rows the map was drawn from (>= {n}); "
                         f"got {total!r}")
    out["notes"] = [f"showing {n:,} of {total:,} points, sampled uniformly at random"] if total > n else []
    return out


def _rounded(values: Sequence[float]) -> list:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise UsageError("rows['map'] coordinates must be numbers") from None
    finite = arr[np.isfinite(arr)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    digits = 3 - int(np.floor(np.log10(top))) if top > 0 else 0
    return [v if math.isfinite(v) else None for v in np.round(arr, digits).tolist()]


def _samples(chosen: Sequence[Mapping] | None, rejected: Sequence[Mapping] | None) -> list | None:
    """Up to MAX_SAMPLE_ROWS rows per side, MAX_SAMPLE_COLUMNS columns, cells cut at MAX_CELL_CHARS."""
    out = []
    for name, rows in (("chosen", chosen), ("not chosen", rejected)):
        if not rows:
            continue
        if not all(isinstance(row, Mapping) for row in rows):
            raise UsageError(f"rows['{'chosen' if name == 'chosen' else 'rejected'}_rows'] must be a list of dicts")
        rows = list(rows)[:MAX_SAMPLE_ROWS]
        columns = list(dict.fromkeys(str(k) for row in rows for k in row))[:MAX_SAMPLE_COLUMNS]
        table = [[_cell({str(k): v for k, v in row.items()}.get(c)) for c in columns] for row in rows]
        out.append({"name": name, "columns": columns, "rows": table})
    return out or None


def _cell(value: object) -> str:
    return _cut(fmt(value), MAX_CELL_CHARS)


# A quality-diversity search: its archive as a heatmap, its QD-score curve and its elites.

HISTORY_KEYS = ("evaluations", "qd_score", "coverage", "iteration", "calls", "num_elites", "best", "mean", "vendi")
MAX_HOVER_CHARS = 120


def _search_missing(result: Mapping) -> list[str]:
    notes = []
    if not result.get("axes"):
        notes.append("no archive heatmap: this archive has no axes (its cells, e.g. of a CVT or proximity "
                     "archive, form no grid); its elites are listed below")
    if not result.get("history"):
        notes.append("no QD-score curve: the search's 'history' is empty")
    return notes


def search_axes(result: Mapping) -> list[dict]:
    """The search's axes, each ``{"name": str, "labels": [str, ...]}``; [] for an archive without axes."""
    axes = result.get("axes") or []
    if not isinstance(axes, list):
        raise InputError(f"a search result's 'axes' must be an array; got {json_type(axes)}")
    out = []
    for i, axis in enumerate(axes):
        labels = axis.get("labels") if isinstance(axis, Mapping) else None
        if not isinstance(labels, list) or not labels:
            raise InputError(f"axes[{i}] must be {{'name': str, 'labels': [str, ...]}} with one label per bin; "
                             f"got {axis!r:.80}")
        out.append({"name": fmt(axis.get("name", f"axis {i + 1}")), "labels": [fmt(label) for label in labels]})
    return out


def check_elite(elite: object, axes: list[dict]) -> dict:
    """One elite of an archive as the page uses it (its cell's index per axis under "index", None without
    axes); raises an InputError that says what is wrong with it."""
    if not isinstance(elite, Mapping):
        raise InputError(f"an elite must be a JSON object; got a JSON {json_type(elite)}")
    fitness, text, cell = elite.get("fitness"), elite.get("text"), elite.get("cell")
    if not _is_number(fitness):
        raise InputError(f"'fitness' must be a finite number; got {fitness!r:.40}")
    if not isinstance(text, str):
        raise InputError(f"'text' must be a string; got {json_type(text)}")
    if not isinstance(cell, list) or (axes and len(cell) != len(axes)):
        raise InputError(f"'cell' must be an array of {len(axes) or 'its'} labels (one per axis); got {cell!r:.60}")
    cell = [fmt(label) for label in cell]
    response = elite.get("response")
    return {"id": fmt(elite.get("id")), "text": text, "cell": cell, "index": _cell_index(elite, cell, axes),
            "fitness": float(fitness), "iteration": elite.get("iteration"), "parent": elite.get("parent"),
            "response": None if response is None else fmt(response)}


def _cell_index(elite: Mapping, cell: list[str], axes: list[dict]) -> list[int] | None:
    """The elite's 'cell_index', or without it the position of each of its cell labels among its axis' labels."""
    if not axes:
        return None
    index = elite.get("cell_index")
    if index is None:
        for label, axis in zip(cell, axes):
            if label not in axis["labels"]:
                raise InputError(f"cell label {label!r:.60} is not one of the labels of axis {axis['name']!r:.60}, "
                                 "and the elite has no 'cell_index'")
        return [axis["labels"].index(label) for label, axis in zip(cell, axes)]
    if not isinstance(index, list) or len(index) != len(axes) or not all(
            isinstance(k, int) and not isinstance(k, bool) and 0 <= k < len(axis["labels"])
            for k, axis in zip(index, axes)):
        sizes = ", ".join(str(len(axis["labels"])) for axis in axes)
        raise InputError(f"'cell_index' must be one integer per axis, each below its number of labels ({sizes}); "
                         f"got {index!r:.60}")
    return index


def _search_sections(result: Mapping) -> dict:
    axes = search_axes(result)
    elites = _need(result, "elites", "search", list)
    checked = []
    for i, elite in enumerate(elites):
        try:
            checked.append(check_elite(elite, axes))
        except InputError as err:
            raise InputError(f"elites[{i}]: {err}") from None
    return {"heatmap": _heatmap(axes, checked), "qd": _qd_curve(result.get("history")),
            "elites": _elite_table(checked)}


def _heatmap(axes: list[dict], elites: list[dict]) -> dict | None:
    """The filled cells of the first two axes (x, then y; one row with one axis): per cell the number of
    elites, the best fitness and that elite's text and full cell (the best over any further axes)."""
    if not axes:
        return None
    cells: dict[tuple[int, int], dict] = {}
    for elite in elites:
        index = elite["index"]
        key = (index[0], index[1] if len(axes) > 1 else 0)
        cell = cells.setdefault(key, {"x": key[0], "y": key[1], "n": 0, "best": None})
        cell["n"] += 1
        if cell["best"] is None or elite["fitness"] > cell["best"]:
            cell.update(best=elite["fitness"], text=_cut(elite["text"], MAX_HOVER_CHARS), cell=elite["cell"])
    size = len(axes[0]["labels"]) * (len(axes[1]["labels"]) if len(axes) > 1 else 1)
    notes = [f"{len(cells):,} of {size:,} cells hold elites ({len(elites):,} elites)"]
    if len(axes) > 2:
        rest = ", ".join(axis["name"] for axis in axes[2:])
        notes.append(f"the archive has {len(axes)} axes: the grid shows the first two, {axes[0]['name']} and "
                     f"{axes[1]['name']}; each cell shows the best elite over the other axes ({rest})")
    return {"x": axes[0], "y": axes[1] if len(axes) > 1 else None, "rest": len(axes) > 2,
            "cells": [cells[key] for key in sorted(cells, key=lambda k: (k[1], k[0]))], "notes": notes}


def _qd_curve(history: object) -> dict | None:
    """One list per history key (evaluations, qd_score, coverage, ...), None where an entry lacks it."""
    if not history:
        return None
    if not isinstance(history, list):
        raise InputError(f"a search result's 'history' must be an array; got {json_type(history)}")
    for i, entry in enumerate(history):
        if not isinstance(entry, Mapping) or not _is_number(entry.get("evaluations")):
            raise InputError(f"history[{i}] must be an object with a number 'evaluations'; got {entry!r:.80}")
    return {key: [_number(entry.get(key)) for entry in history] for key in HISTORY_KEYS
            if key in ("evaluations", "qd_score", "coverage") or any(key in entry for entry in history)}


def _elite_table(elites: list[dict]) -> dict | None:
    """Up to MAX_SAMPLE_ROWS elites, cells in order of their best fitness, the best elite first in each."""
    if not elites:
        return None
    best: dict[tuple, float] = {}
    for elite in elites:
        key = tuple(elite["cell"])
        best[key] = max(best.get(key, elite["fitness"]), elite["fitness"])
    order = sorted(elites, key=lambda e: (-best[tuple(e["cell"])], e["cell"], -e["fitness"]))
    responses = any(elite["response"] is not None for elite in elites)
    columns = ["cell", "fitness", "iteration", "id", "parent", "text", *(["response"] if responses else [])]
    rows = [[_cell(", ".join(e["cell"])), fmt(e["fitness"]), _cell(e["iteration"]), _cell(e["id"]),
             _cell(e["parent"]), _cell(e["text"]), *([_cell(e["response"])] if responses else [])]
            for e in order[:MAX_SAMPLE_ROWS]]
    shown = (f"showing the first {MAX_SAMPLE_ROWS} of {len(elites):,} elites"
             if len(elites) > MAX_SAMPLE_ROWS else f"all {len(elites):,} elites")
    notes = [f"{shown}: cells in order of their best fitness, the best elite first in each; long values are cut"]
    return {"columns": columns, "rows": rows, "notes": notes}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
