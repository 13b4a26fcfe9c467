"""`quadiv front`: the trade-off front of selection methods over tradeoffs, or of a table of results."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv.cli import _common
from quadiv.errors import UsageError


@_common.with_options()
def front_command(
    input: Path | None = typer.Argument(
        None, help="Pool to sweep: JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write FRONT.json."),
    budget: str | None = typer.Option(
        None, "--budget", "-n", help="Rows each selection keeps; a comma list (500,1000) sweeps budgets too."),
    methods: str | None = typer.Option(
        None, "--methods", help="Comma-separated selection methods.",
        show_default="facility-location,dpp,mmr,cluster"),
    tradeoffs: str | None = typer.Option(
        None, "--tradeoffs", "-t", help="START:STOP:COUNT (numpy linspace) or a comma list.", show_default="0:1:11"),
    objectives: str = typer.Option(
        "quality_mean:max,vendi:max", "--objectives", help="NAME:max|min pairs, comma-separated."),
    metrics: str | None = typer.Option(
        None, "--metrics", help="Metrics measured at every point.", show_default="those of `measure`"),
    reference: str | None = typer.Option(
        None, "--reference", help="Hypervolume reference point, one value per objective.",
        show_default="each objective's worst value, 10% of its range further out"),
    from_table: Path | None = typer.Option(
        None, "--from", help="Front of finished results instead: a table of knob columns and metric columns."),
    budget_evals: int | None = typer.Option(
        None, "--budget-evals", help="Evaluate only K settings per method, chosen by a quadratic surrogate (MAP)."),
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML report of the front."),
    field: str | None = _common.FIELD,
    group_field: str | None = _common.GROUP,
    options: _common.Options = None,
) -> None:
    """The quality-diversity trade-off front: Pareto points, hypervolume, R2 and knee, as JSON."""
    from quadiv.front import parse_objectives
    from quadiv.report import check_report_paths

    if (input is None) == (from_table is None):
        raise UsageError("give either INPUT (a pool to sweep) or --from TABLE (finished results), not both")
    source = input if input is not None else from_table
    _common.check_output(output, (source,))
    check_report_paths(report, None, (source, output))
    objectives = parse_objectives(objectives)
    ref = _floats(reference, "--reference") if reference is not None else None
    if from_table is not None:
        given = {"--budget": budget, "--methods": methods, "--tradeoffs": tradeoffs, "--budget-evals": budget_evals}
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise UsageError(f"{', '.join(extra)} only apply to a sweep over INPUT; --from reads finished results")
        result, data = _from_table(from_table, objectives, ref), None
    else:
        result, data = _sweep(input, budget, methods, tradeoffs, objectives, metrics, ref, budget_evals,
                              (field, group_field), options)
    result["input"] = str(source)
    result = _common.finite(result)
    _write(result, output)
    if report is not None:
        from quadiv.report import build_report, say_written

        rows = _knee_rows(result, *data, options.run.seed) if data is not None else None
        say_written(build_report(result, str(report), kind="front", rows=rows))
    if options.run.as_json:
        print(json.dumps(result))
    else:
        _print_front(result, output)


def _floats(text: str, option: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option} takes comma-separated numbers, got '{text}'") from None


def _from_table(path: Path, objectives: dict, reference: list[float] | None) -> dict:
    from quadiv import io
    from quadiv.front import front_from_table

    return front_from_table(io.read(str(path)), objectives, reference, path=str(path))


def _sweep(input: Path, budget: str | None, methods: str | None, tradeoffs: str | None, objectives: dict,
           metrics: str | None, reference: list[float] | None, budget_evals: int | None, fields: tuple,
           options: _common.Options) -> tuple[dict, tuple]:
    """Check every argument, load and embed the pool, run the sweep; also returns (pool, X, quality, groups)."""
    from quadiv.front import DEFAULT_METHODS, front, parse_budgets, parse_grid
    from quadiv.measure import parse_metrics
    from quadiv.select import get_selector

    if budget is None:
        raise UsageError("give --budget N (rows each selection keeps) to sweep INPUT")
    budgets = parse_budgets(budget)
    grid = parse_grid(tradeoffs or "0:1:11")
    names = [m.strip() for m in methods.split(",") if m.strip()] if methods else list(DEFAULT_METHODS)
    for name in names:
        get_selector(name)
    metric_names = parse_metrics(metrics)
    if budget_evals is not None and budget_evals < 1:
        raise UsageError(f"--budget-evals must be a positive whole number, got {budget_evals}")
    field, group_field = fields
    quality_source, embedding, run = options
    seed, quiet = run.seed, run.quiet
    pool = _common.load_pool(input, field, group_field, quality_source.quality_field,
                             (embedding.embedding_field, *quality_source.columns),
                             whole_rows=quality_source.whole_rows)
    X, label = embedding.load(pool, quiet, quality_source.instruction_field)
    pool, X, quality = quality_source.load(pool, X, quiet)
    texts = pool.texts if pool.field is not None else None
    groups = pool.labels(group_field) if group_field else None
    total = len(names) * (budget_evals or grid.size * len(budgets))
    with _common.progress("sweeping", total, quiet) as advance:
        result = front(X, budgets, methods=names, tradeoffs=grid, objectives=objectives, quality=quality,
                       texts=texts, groups=groups, metrics=metric_names, reference=reference,
                       budget_evals=budget_evals, seed=seed, progress=advance)
    return {"n": len(pool), "embedder": label, "field": pool.field, **result}, (pool, X, quality, groups)


def _knee_rows(result: dict, pool, X, quality, groups, seed: int) -> dict:
    """The report's panels for the knee point's selection (:func:`quadiv.report.selection_rows`)."""
    from quadiv.report import selection_rows
    from quadiv.select import select

    knee = result["points"][result["knee"]]
    params = knee["params"]
    chosen = select(X, int(params["budget"]), method=knee["method"], quality=quality,
                    tradeoff=float(params["tradeoff"]), groups=groups, seed=seed).indices
    return selection_rows(pool.table, X, chosen, quality, groups, seed=seed)


def _write(result: dict, output: Path) -> None:
    from quadiv.io import atomic_write

    with atomic_write(output) as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")


def _print_front(result: dict, output: Path) -> None:
    """The Pareto points as rows (knee marked), with the front's indicators in the title."""
    from rich.table import Table

    names = list(result["objectives"])
    hv, r2 = result["hypervolume"], result["r2"]
    title = (f"{len(result['pareto'])} of {len(result['points'])} settings on the front -> {output}; "
             f"hypervolume {_common.fmt(hv['value'])} "
             f"(reference {', '.join(_common.fmt(v) for v in hv['reference'])}), "
             f"R2 {_common.fmt(r2['value'])}")
    table = Table()
    params = sorted({k for i in result["pareto"] for k in result["points"][i]["params"]})
    for column in ["#", "method", *params, *(f"{n} ({s})" for n, s in result["objectives"].items()), "knee"]:
        table.add_column(column, justify="left" if column == "method" else "right")
    for i in result["pareto"]:
        point = result["points"][i]
        table.add_row(str(i), point["method"], *(_common.fmt(point["params"].get(p)) for p in params),
                      *(_common.fmt(point["metrics"][n]) for n in names), "*" if i == result["knee"] else "")
    out = _common.console()
    out.print(title, highlight=False)
    out.print(table)
