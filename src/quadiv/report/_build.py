"""`build_report`: a result (and optional row-level panels) as one offline HTML page and PNG figures."""
from __future__ import annotations

import os
from collections.abc import Mapping

from quadiv.io import atomic_write
from quadiv.report._data import page_data
from quadiv.report._html import render_page


def build_report(
    result: Mapping,
    path: str | os.PathLike,
    *,
    kind: str = "front",
    rows: Mapping | None = None,
    png_dir: str | os.PathLike | None = None,
) -> list[str]:
    """Write the report of `result` to `path` (atomically), and PNG figures to `png_dir` if given.

    `kind` names the result: "front" (FRONT.json: objectives, points, hypervolume, knee), "select"
    (method, budget, metrics before and after), "measure" (n, metrics, groups, worst_group) or "search"
    (the object of ARCHIVE.search.json with the archive's elites, one dict per line, under "elites":
    :func:`read_search` reads both files; a search drawn in memory passes ``{**sidecar, "elites": elites}``);
    :func:`detect_kind` tells them apart. `rows` adds row-level panels, each optional:
    ``quality_before`` / ``quality_after`` (one float per row: histograms), ``groups``
    (:func:`group_rows`: bars per group), ``map`` (:func:`map_rows`: 2-D map of the embeddings),
    ``chosen_rows`` / ``rejected_rows`` (lists of dicts: sample tables); a search takes none. Without
    `rows`, the page says which panels a result alone cannot draw (:func:`missing_panels`).

    The page is self-contained: styles, script and data are inline, it loads nothing and its
    Content-Security-Policy forbids any request; every value from the data is shown as text.
    PNG figures (pareto.png, groups.png, quality.png, heatmap.png, qd_score.png, those with data) need
    matplotlib; `png_dir`
    is created only when there is a figure to write. Everything is drawn before anything is
    written, and each file is written atomically, so a failure leaves no partial file behind.

    Returns the paths written: the page first, then the figures.
    """
    data = page_data(result, kind, rows)
    page = render_page(data)
    figures = {}
    if png_dir is not None:
        from quadiv.report._png import render_figures

        figures = {os.path.join(os.fspath(png_dir), name): image for name, image in render_figures(data).items()}
    with atomic_write(path, "w") as handle:
        handle.write(page)
    for figure, image in figures.items():
        with atomic_write(figure, "wb") as handle:
            handle.write(image)
    return [os.fspath(path), *figures]
