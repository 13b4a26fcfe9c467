"""The HTML page: Python writes the text and tables (escaped); the inline script draws the charts."""
from __future__ import annotations

import base64
import hashlib
from html import escape

from quadiv import __version__
from quadiv.report._assets import SCRIPT, STYLE
from quadiv.report._escape import script_json

CHARTS = ("front", "groups", "hist", "map", "heatmap", "qd")
_SECTIONS = {
    "front": ("Pareto front", ("Points on the front have a dark outline and are joined by the dashed line; the "
                               "red ring marks the knee. Rest the pointer on a point for its method and "
                               "parameters; click it for all its numbers."), 460),
    "groups": ("Quality by group", "Mean per group; the worst group is outlined in red.", 400),
    "hist": ("Quality distribution", "Share of items per quality bin; dashed lines mark the means.", 340),
    "map": ("Embedding map", ("The first two principal components of the embeddings. Rest the pointer on a "
                               "point for its label."), 480),
    "heatmap": ("Archive heatmap", ("One cell per bin of the first two axes, coloured by the best fitness among "
                                    "its elites; empty cells are pale grey with a dashed outline. Rest the pointer "
                                    "on a cell for its labels, number of elites and best fitness."), 460),
    "qd": ("QD score", ("QD score (solid, left axis) and coverage (dashed, right axis) against the number of "
                        "evaluations. Rest the pointer on a point for all its numbers."), 360),
}


def render_page(data: dict) -> str:
    """The whole page as one string; it loads nothing: a Content-Security-Policy forbids any fetch
    and lets only the page's own script (by its SHA-256) run."""
    charts = {key: data[key] for key in CHARTS if key in data}
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    title = f"quadiv {data['kind']} report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        '<link rel="icon" href="data:,">',
        f"<style>{STYLE}</style></head><body>",
        (f"<header><h1>{escape(title)}</h1><p>{escape(data['title'])} &middot; quadiv {escape(__version__)}</p>"
         "</header><main>"),
        '<noscript><p class="note">The charts need JavaScript; the tables below do not.</p></noscript>',
        _summary(data),
        *(_chart_section(key, data) for key in charts),
        _samples(data.get("samples")),
        _elites(data.get("elites")),
        "</main>",
        f'<script type="application/json" id="data">{script_json(charts)}</script>',
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _summary(data: dict) -> str:
    pairs = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in data["pairs"])
    table = data.get("table")
    body = f'<table class="kv">{pairs}</table>'
    if table and table["rows"]:
        grid = _table(table["columns"], table["rows"], "fit")
        if data["kind"] == "front":
            grid = f"<details><summary>All {len(table['rows'])} points</summary>{grid}</details>"
        body += f"<h3>{'Points' if data['kind'] == 'front' else 'Metrics'}</h3>{grid}"
    body += "".join(f'<p class="note missing">{escape(text)}</p>' for text in data.get("missing", []))
    return f'<section id="summary"><h2>Summary</h2>{body}</section>'


def _chart_section(key: str, data: dict) -> str:
    heading, note, height = _SECTIONS[key]
    notes = "".join(f'<p class="note">{escape(text)}</p>' for text in data[key].get("notes", []))
    controls = '<div id="groups-controls"></div>' if key == "groups" else ""
    details = '<div id="front-details" class="details"></div>' if key == "front" else ""
    return (f'<section id="{key}-section"><h2>{heading}</h2><p class="note">{note}</p>{notes}{controls}'
            f'<svg id="{key}-chart" class="chart" viewBox="0 0 760 {height}" role="img" '
            f'aria-label="{escape(heading)}"></svg><div id="{key}-legend" class="legend"></div>{details}</section>')


def _samples(samples: list | None) -> str:
    if not samples:
        return ""
    parts = [f"<h3>{escape(s['name'])} ({len(s['rows'])} rows)</h3>"
             + _table(s["columns"], s["rows"], "samples") for s in samples]
    return ('<section id="samples-section"><h2>Sample rows</h2><p class="note">Long values are cut.</p>'
            + "".join(parts) + "</section>")


def _elites(elites: dict | None) -> str:
    if not elites:
        return ""
    notes = "".join(f'<p class="note">{escape(text)}</p>' for text in elites["notes"])
    return (f'<section id="elites-section"><h2>Elites</h2>{notes}'
            f'{_table(elites["columns"], elites["rows"], "samples")}</section>')


def _table(columns: list, rows: list, cls: str = "") -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    wrapper = "wide" if cls == "fit" else "scroll"
    return (f'<div class="{wrapper}"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            "</table></div>")
