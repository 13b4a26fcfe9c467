"""`quadiv search`: quality-diversity search over texts from a SEARCH.toml, resumably."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from quadiv.cli import _common
from quadiv.errors import UsageError

EXAMPLES = {path.stem: path for path in sorted((Path(__file__).parents[1] / "search" / "examples").glob("*.toml"))}


def search_command(
    config: Path | None = typer.Option(None, "--config", "-c", help="SEARCH.toml: algorithm, models, axes, budget "
                                       "(start from --example)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="ARCHIVE.jsonl: one row per elite; "
                                       "ARCHIVE.search.json beside it holds the statistics per iteration."),
    example: str | None = typer.Option(None, "--example", help="Print a shipped SEARCH.toml and exit: "
                                       f"{', '.join(EXAMPLES)}."),
    budget: int | None = typer.Option(None, "--budget", help="Evaluations to spend (overrides the config's)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (overrides the config's)."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible server for every model table "
                                        "that names none, e.g. http://localhost:8000/v1."),
    resume: bool = typer.Option(False, "--resume", help="Continue the search recorded in ARCHIVE.jsonl.journal."),
    report_path: Path | None = typer.Option(None, "--report", help="Also write the HTML report: archive heatmap, "
                                       "QD-score curve, elites."),
    as_json: bool = _common.JSON,
    quiet: bool = _common.QUIET,
) -> None:
    """Search for many different good texts (QDAIF, Rainbow Teaming, RainbowPlus, Ferret); --resume continues."""
    from quadiv.search import history_path, load_config, run_config, summary_path

    if example is not None:
        if example not in EXAMPLES:
            raise UsageError(f"--example must be one of {', '.join(EXAMPLES)}; got '{example}'")
        print(EXAMPLES[example].read_text(encoding="utf-8"), end="")
        return
    if config is None or output is None:
        raise UsageError("quadiv search needs --config SEARCH.toml and --output ARCHIVE.jsonl (see "
                         "`quadiv search --example stories` for a config to start from)")
    chosen = load_config(config)
    if budget is not None:
        if budget < 1:
            raise UsageError(f"--budget is the number of evaluations and must be >= 1; got {budget}")
        chosen.budget = budget
    if seed is not None:
        chosen.seed = seed
    if base_url is not None:
        _fill_base_url(chosen.sections, chosen.describe, base_url)
    _common.check_output(output, others=[(config, f"the config {config}: choose another --output")])
    if report_path is not None:
        from quadiv.report import check_report_paths

        check_report_paths(report_path, None, (config, output))
    try:
        with _common.progress(f"searching ({chosen.algorithm})", chosen.budget, quiet) as advance:
            archive = run_config(chosen, output, resume=resume, progress=advance)
    except KeyboardInterrupt:
        _common.fail(f"interrupted; the search so far is in {output}.journal: rerun with --resume to continue",
                     code=130)
    last = archive.history[-1] if archive.history else {}
    summary = {"algorithm": chosen.algorithm, "budget": chosen.budget, "seed": chosen.seed,
               "evaluations": last.get("evaluations", 0), "iterations": len(archive.history),
               "calls": last.get("calls", 0), "stats": {**archive.stats(), "vendi": last.get("vendi")},
               "dropped": last.get("dropped", {}),
               "output": str(output), "summary": str(summary_path(output)), "history": str(history_path(output))}
    if report_path is not None:
        from quadiv.report import report_file, say_written

        say_written(report_file(output, report_path)[0])
        summary["report"] = str(report_path)
    if as_json:
        print(json.dumps(_common.finite(summary)))
        return
    _print(summary)


def _fill_base_url(sections: dict, describe: list, base_url: str) -> None:
    for name in ("mutator", "target"):
        if sections[name] and "base_url" not in sections[name]:
            sections[name]["base_url"] = base_url
    for name in ("fitness", "contest"):
        if sections[name] and str(sections[name].get("scorer", "")).startswith("judge:"):
            sections[name].setdefault("params", {}).setdefault("base_url", base_url)
    for spec in describe:
        if isinstance(spec, dict):
            (spec.setdefault("params", {}) if "scorer" in spec else spec).setdefault("base_url", base_url)


def _print(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    stats = report["stats"]
    print(f"{report['algorithm']}: {report['evaluations']} evaluations in {report['iterations']} iterations, "
          f"{report['calls']} mutator calls")
    if report["dropped"]:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(report["dropped"].items()))
        print(f"evaluated but not inserted: {reasons}")
    table = Table()
    table.add_column("", no_wrap=True)
    table.add_column("value", justify="right")
    for key in ("qd_score", "coverage", "num_elites", "best", "mean", "vendi"):
        value = stats.get(key)
        table.add_row(key, "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
    for key in ("output", "summary", "history"):
        print(f"wrote {report[key]}")
