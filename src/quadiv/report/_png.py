"""PNG figures of the report's charts through matplotlib (optional: the ``report`` extra)."""
from __future__ import annotations

import io
import math

import numpy as np

from quadiv._deps import require

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#e15759",
           "#bab0ac"]
WORST = "#d62728"


def render_figures(data: dict) -> dict[str, bytes]:
    """pareto.png, groups.png, quality.png, heatmap.png and qd_score.png (those whose data exists) as PNG
    bytes, by file name."""
    Figure = require("matplotlib.figure", "report", "PNG figures", package="matplotlib").Figure
    drawers = {"front": ("pareto.png", _front), "groups": ("groups.png", _groups), "hist": ("quality.png", _hist),
               "heatmap": ("heatmap.png", _heatmap), "qd": ("qd_score.png", _qd)}
    images = {}
    for key, (name, draw) in drawers.items():
        if key not in data:
            continue
        fig = Figure(figsize=(7.5, 4.6), layout="constrained")
        draw(fig.add_subplot(), data[key])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150)
        images[name] = buffer.getvalue()
    return images


def _text(value: object, limit: int = 40) -> str:
    """Data as plain label text: '$' escaped so that matplotlib never reads it as mathtext."""
    text = str(value)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _front(ax, front: dict) -> None:
    ox, oy = front["objectives"][:2]
    points = [(i, p, p["metrics"].get(ox["name"]), p["metrics"].get(oy["name"])) for i, p in enumerate(front["points"])]
    points = [(i, p, x, y) for i, p, x, y in points if isinstance(x, (int, float)) and isinstance(y, (int, float))]
    series = list(dict.fromkeys(p["series"] for p in front["points"]))
    for k, name in enumerate(series):
        label = _text(name)
        for pareto in (True, False):
            xy = [(x, y) for _, p, x, y in points if p["series"] == name and p["pareto"] == pareto]
            if xy:
                ax.scatter(*zip(*xy), s=42 if pareto else 26, color=PALETTE[k % len(PALETTE)],
                           alpha=1.0 if pareto else 0.4, edgecolors="#222" if pareto else "none", label=label,
                           zorder=3 if pareto else 2)
                label = None
    line = sorted((x, y) for _, p, x, y in points if p["pareto"])
    if len(line) > 1:
        ax.plot(*zip(*line), color="#222", linestyle="--", linewidth=1.2, zorder=0, label="Pareto front")
    knee = [(x, y) for i, _, x, y in points if i == front.get("knee")]
    if knee:
        ax.scatter(*zip(*knee), s=260, facecolors="none", edgecolors=WORST, linewidths=2, label="knee")
    ax.set_xlabel(_text(f"{ox['name']} ({ox['direction']})"))
    ax.set_ylabel(_text(f"{oy['name']} ({oy['direction']})"))
    ax.set_title("Pareto front")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _groups(ax, groups: dict) -> None:
    series = groups["metrics"][groups["metric"]]
    labels = groups["labels"]
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        xs = [j + width * (k - (len(series) - 1) / 2) for j in range(len(labels))]
        heights = [v if v is not None else 0.0 for v in values]
        edges = [WORST if g == groups.get("worst") else "none" for g in labels]
        ax.bar(xs, heights, width=width * 0.95, color=PALETTE[k % len(PALETTE)], edgecolor=edges, linewidth=2,
               label=_text(name))
    ax.set_xticks(range(len(labels)), [_text(g, 24) for g in labels], rotation=35 if len(labels) > 6 else 0,
                  ha="right" if len(labels) > 6 else "center", fontsize=8)
    for tick, g in zip(ax.get_xticklabels(), labels):
        if g == groups.get("worst"):
            tick.set_color(WORST)
    ax.set_ylabel(_text(groups["metric"]))
    ax.set_title("By group" + (f" (worst: {_text(groups['worst'], 30)})" if groups.get("worst") else ""))
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _hist(ax, hist: dict) -> None:
    edges = hist["edges"]
    for k, s in enumerate(hist["series"]):
        color = PALETTE[k % len(PALETTE)]
        ax.stairs(s["fractions"], edges, fill=True, alpha=0.55 if len(hist["series"]) > 1 else 0.85, color=color,
                  label=_text(f"{s['name']} (n={s['n']}, mean {s['mean']:.3g})"))
        ax.axvline(s["mean"], color=color, linestyle="--", linewidth=1.2)
    ax.set_xlabel("quality")
    ax.set_ylabel("share of items")
    ax.set_title("Quality distribution")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _heatmap(ax, heatmap: dict) -> None:
    """Best fitness per cell of the first two axes; empty cells show the pale background."""
    x, y = heatmap["x"], heatmap["y"]
    grid = np.full((len(y["labels"]) if y else 1, len(x["labels"])), np.nan)
    for cell in heatmap["cells"]:
        grid[cell["y"], cell["x"]] = cell["best"]
    ax.set_facecolor("#f0f0f0")
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap="viridis",
                      interpolation="nearest")
    if heatmap["cells"]:
        ax.figure.colorbar(image, ax=ax, label="best fitness")
    rotate = len(x["labels"]) > 8
    ax.set_xticks(*_ticks(x["labels"]), rotation=35 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
    ax.set_yticks(*_ticks(y["labels"]) if y else ([], []), fontsize=8)
    ax.set_xlabel(_text(x["name"]))
    if y is not None:
        ax.set_ylabel(_text(y["name"]))
    ax.set_title("Archive: best fitness per cell")


def _ticks(labels: list[str]) -> tuple[list[int], list[str]]:
    """At most 20 of an axis' labels, evenly spaced, cut short."""
    ticks = list(range(0, len(labels), math.ceil(len(labels) / 20)))
    return ticks, [_text(labels[k], 18) for k in ticks]


def _qd(ax, qd: dict) -> None:
    """QD score on the left axis, coverage dashed on the right one, against evaluations."""
    evaluations = np.asarray(qd["evaluations"], dtype=float)
    for key, axis, color, style in (("qd_score", ax, PALETTE[0], "-"), ("coverage", ax.twinx(), PALETTE[1], "--")):
        values = np.asarray([np.nan if v is None else v for v in qd[key]], dtype=float)
        keep = np.isfinite(values)
        axis.plot(evaluations[keep], values[keep], color=color, linestyle=style, linewidth=1.8,
                  marker="o" if keep.sum() == 1 else None)
        axis.set_ylabel(key.replace("_", " ").replace("qd", "QD"), color=color)
    ax.set_xlabel("evaluations")
    ax.set_title("QD score and coverage")
    ax.grid(alpha=0.3)
