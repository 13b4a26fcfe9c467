"""`quadiv measure`: how diverse and how good a set is, overall and per group."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from quadiv.cli import _common


@_common.with_options()
def measure_command(
    input: Path = typer.Argument(..., help="JSONL, JSON, CSV, Parquet or a saved HF dataset directory."),
    field: str | None = _common.FIELD,
    group_field: str | None = _common.GROUP,
    input_field: str | None = typer.Option(
        None, "--input-field", help="Column naming the input (prompt) of each output: per-input diversity."),
    metrics: str | None = typer.Option(None, "--metrics", help="Comma-separated metric names (see the README's table)."),
    reference: Path | None = typer.Option(
        None, "--reference", help="Reference set (same format and field): precision, recall, density, coverage, "
        "novelty (novelty_ngram with --field, novelty_utility with quality)."),
    k: int = typer.Option(5, "--k", help="Neighbours for the reference-set radii."),
    taxonomy: str | None = typer.Option(
        None, "--taxonomy", help="Comma-separated domains the --group-field could name, for domain_coverage and "
        "domain_evenness (default: the groups seen)."),
    bootstrap: int = typer.Option(
        0, "--bootstrap", help="Resamples for 95% percentile intervals of each metric, overall and per group "
        "(each resample recomputes the metrics: name a few with --metrics)."),
    top_logprobs_field: str | None = typer.Option(
        None, "--top-logprobs-field", help="Column of per-token top log-probs (quadiv generate --param logprobs=K): "
        "topk_mass, topk_entropy, topk_entropy_renormalized."),
    top_k: int = typer.Option(10, "--top-k", help="k of the topk_* metrics (at most the log-probs kept per token)."),
    engine: str | None = _common.ENGINE,
    address: str | None = _common.ADDRESS,
    report: Path | None = _common.REPORT,
    png: Path | None = _common.PNG,
    options: _common.Options = None,
) -> None:
    """How diverse and how good a set is, overall and per group."""
    from quadiv.measure import measure as run_measure
    from quadiv.measure import parse_metrics
    from quadiv.report import check_report_paths

    names = parse_metrics(metrics)
    check_report_paths(report, png, (input,))
    quality_source, embedding, run = options
    seed, quiet = run.seed, run.quiet
    where = _common.open_engine(engine, address)
    pool = _common.load_pool(input, field, group_field, quality_source.quality_field,
                             (input_field, top_logprobs_field, embedding.embedding_field, *quality_source.columns),
                             whole_rows=quality_source.whole_rows)
    X, label = embedding.load(pool, quiet, quality_source.instruction_field, engine=where)
    pool, X, quality = quality_source.load(pool, X, quiet, where)
    texts = pool.texts if pool.field is not None else None
    groups = pool.labels(group_field) if group_field else None
    input_ids = pool.labels(input_field) if input_field else None
    top_logprobs = pool.table.column(top_logprobs_field).to_pylist() if top_logprobs_field else None
    ref_X = ref_texts = None
    if reference is not None:
        ref_pool = _common.load_pool(reference, pool.field, None, None, (embedding.embedding_field,))
        ref_X, _ = dataclasses.replace(embedding, embeddings=None).load(ref_pool, quiet)
        ref_texts = ref_pool.texts if pool.field is not None else None
    domains = _common.comma_list(taxonomy)
    with _common.progress("measuring", None, quiet) as advance:
        result = run_measure(X, texts, quality, groups, metrics=names, input_ids=input_ids, reference=ref_X,
                             reference_texts=ref_texts, taxonomy=domains, k=k, top_logprobs=top_logprobs,
                             top_k=top_k, seed=seed, progress=advance,
                             engine=_common.remote(where))
    if bootstrap:
        from quadiv.measure import add_intervals

        with _common.progress("bootstrap", bootstrap * (1 + len(result["groups"])), quiet) as advance:
            add_intervals(result, X, texts, quality, groups, n_resamples=bootstrap, metrics=names, seed=seed,
                          taxonomy=domains, progress=advance)
    result = {"n": result["n"], "embedder": label, "field": pool.field, **result}
    if report is not None:
        from quadiv.report import build_report, group_rows, map_rows, say_written

        rows = {"quality_before": quality.tolist()} if quality is not None else {}
        if groups is not None and quality is not None:
            rows["groups"] = group_rows(groups, quality)
        rows["map"] = map_rows(X, labels=groups, seed=seed)
        say_written(build_report(result, str(report), kind="measure", rows=rows, png_dir=_common.png_dir(png)))
    if run.as_json:
        print(json.dumps(_common.finite(result)))
    else:
        _print_measure(result, str(input))


def _print_measure(result: dict, source: str) -> None:
    """Metrics as rows; the whole set and then each group as columns."""
    from rich.table import Table

    groups = result["groups"]
    title = f"{source}: {result['n']} items, field {result['field']}, embedder {result['embedder']}"
    if result.get("worst_group"):
        title += f", worst group {result['worst_group']}"
    table = Table()
    table.add_column("metric", no_wrap=True)
    table.add_column(f"all\nn={result['n']}", justify="right")
    for label in groups:
        table.add_column(f"{label}\nn={groups[label]['n']}", justify="right", overflow="fold", min_width=9)
    ci = result.get("ci")
    for name, value in result["metrics"].items():
        table.add_row(name, _common.fmt(value), *(_common.fmt(groups[g].get(name)) for g in groups))
        if ci is not None and name in ci["all"]:
            cells = [ci["all"][name], *(ci["groups"][g][name] for g in groups)]
            table.add_row(f"  {ci['confidence']:.0%} CI",
                          *(f"[{_common.fmt(lo)}, {_common.fmt(hi)}]" for lo, hi in cells))
    out = _common.console()
    out.print(title, highlight=False)
    out.print(table)
