"""`quadiv select`: choose a subset that is both good and diverse."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv import io
from quadiv.cli import _common
from quadiv.errors import UsageError


@_common.with_options()
def select_command(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the chosen rows (format by extension)."),
    budget: int | None = typer.Option(None, "--budget", "-n", help="How many rows to choose."),
    fraction: float | None = typer.Option(None, "--fraction", help="Or which share of the rows, in (0, 1]."),
    method: str = typer.Option("facility-location", "--method", help="Selection method (see `quadiv methods`)."),
    tradeoff: float = typer.Option(0.5, "--tradeoff", "-t", help="0 = diversity only, 1 = quality only."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter NAME=VALUE (repeatable)."),
    score_fields: str | None = typer.Option(
        None, "--score-fields", help="Comma-separated numeric columns: the score matrix of --method odis."),
    field: str | None = _common.FIELD,
    group_field: str | None = _common.GROUP,
    engine: str | None = _common.ENGINE,
    address: str | None = _common.ADDRESS,
    report_path: Path | None = _common.REPORT,
    png: Path | None = _common.PNG,
    options: _common.Options = None,
) -> None:
    """Choose a subset that is both good and diverse; write its rows in selection order."""
    from quadiv.measure import selection_metrics
    from quadiv.report import check_report_paths
    from quadiv.select import budget_from, get_selector

    _common.check_output(output, (input,))
    check_report_paths(report_path, png, (input, output))
    selector = get_selector(method, **_common.parse_params(param))
    where = _common.open_engine(engine, address, selector.check_engine)  # before any embedding
    score_columns = _common.comma_list(score_fields)
    if score_columns is not None and "scores" not in selector.data_names:
        raise UsageError(f"--score-fields gives a score matrix, which method '{method}' does not take (odis does)")
    if score_columns == []:
        raise UsageError("--score-fields names no column; give NAME[,NAME...]")
    quality_source, embedding, run = options
    seed, quiet = run.seed, run.quiet
    _ = quality_source.scorer  # an unknown scorer fails before any work
    pool = _common.load_pool(input, field, group_field, quality_source.quality_field,
                             (embedding.embedding_field, *quality_source.columns, *(score_columns or ())), whole_rows=True)
    io.check_writable(pool.table.schema, output)
    budget_from(budget, fraction, n=len(pool))  # fail before embedding anything
    X, label = embedding.load(pool, quiet, quality_source.instruction_field, engine=where)
    pool, X, quality = quality_source.load(pool, X, quiet, where)
    budget = budget_from(budget, fraction, n=len(pool))
    groups = pool.labels(group_field) if group_field else None
    texts = pool.texts if pool.field is not None else None
    data = {}
    if score_columns is not None:
        import numpy as np

        data["scores"] = np.column_stack([pool.floats(name) for name in score_columns])
    with _common.progress(f"selecting {budget} of {len(pool)} ({method})", None, quiet):
        result = selector.select(X, budget, quality, tradeoff, groups, seed, engine=where, **data)
    io.write(pool.take(result.indices), str(output))
    chosen = result.indices
    with _common.progress("measuring the pool and the selection", None, quiet):
        metrics = selection_metrics(X, chosen, texts, quality, seed=seed)
    summary = {"method": method, "budget": budget, "selected": len(chosen), "objective": result.objective,
               "objective_sense": "max" if result.higher_is_better else "min",
               "tradeoff": tradeoff, "embedder": label, "field": pool.field, "output": str(output),
               "metrics": metrics, **({"score_fields": score_columns} if score_columns else {}),
               "params": result.params}
    if groups is not None:
        from quadiv.measure import group_counts

        summary["groups"] = group_counts(groups, chosen)
    if report_path is not None:
        from quadiv.report import build_report, say_written, selection_rows

        rows = selection_rows(pool.table, X, chosen, quality, groups, seed=seed)
        say_written(build_report(summary, str(report_path), kind="select", rows=rows,
                                 png_dir=_common.png_dir(png)))
    if run.as_json:
        print(json.dumps(_common.finite(summary)))
    else:
        _print_select(summary)


def _print_select(report: dict) -> None:
    from rich.table import Table

    table = Table()
    for column in ("metric", "before", "after"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    for name, value in report["metrics"]["before"].items():
        table.add_row(name, _common.fmt(value), _common.fmt(report["metrics"]["after"][name]))
    out = _common.console()
    out.print(f"{report['method']}: chose {report['selected']} rows -> {report['output']} "
              f"(objective {report['objective']:.4g}, {'higher' if report['objective_sense'] == 'max' else 'lower'} "
              f"is better; field {report['field']}, embedder {report['embedder']})",
              highlight=False)
    params = report.get("params", {})
    if "partition" in params:
        check = params.get("sample_check")
        out.print(f"{params['partitions']} {params['partition']} parts, {params['merge']} merge (seed {params['seed']}); "
                  f"{params['guarantee']}"
                  + (f"; sample check: {check['ratio']:.4f} of one machine's greedy on {check['rows']} rows"
                     if check else ""), highlight=False)
    out.print(table)
    if "groups" in report:
        counts = Table()
        for column in ("group", "before", "after"):
            counts.add_column(column, justify="right" if column != "group" else "left")
        for label, count in report["groups"].items():
            counts.add_row(label, str(count["before"]), str(count["after"]))
        out.print(counts)
