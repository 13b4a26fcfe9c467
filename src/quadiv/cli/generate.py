"""`quadiv generate`: run a generation strategy over a prompt file into a JSONL, resumably."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from quadiv.cli import _common
from quadiv.errors import UsageError


def generate_command(
    prompts: Path = typer.Argument(..., help="JSONL/JSON/CSV/Parquet with id and prompt, or .txt with one prompt a line."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the rows (.jsonl; written when complete)."),
    backend: str = typer.Option(..., "--backend", "-b", help="openai | transformers | vllm."),
    model: str = typer.Option(..., "--model", "-m", help="Model name (openai) or path / Hub id (local backends)."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://host:8000/v1."),
    strategy: str = typer.Option("sampling", "--strategy", "-s", help="Generation strategy (sampling, ...)."),
    n: int = typer.Option(1, "--n", "-n", help="Samples per prompt."),
    seed: int = _common.SEED,
    concurrency: int = typer.Option(
        8, "--concurrency", "-c", help="Prompts (and HTTP requests) in flight at once. A server that seeds one "
        "global generator (transformers serve) repeats a run only at --concurrency 1."),
    param: list[str] = typer.Option([], "--param", "-p", help="Strategy parameter NAME=VALUE (repeatable)."),
    field: str = typer.Option("prompt", "--field", "-f", help="Prompt column, or a template like '{instruction}'."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds before an HTTP request is retried."),
    capabilities: str | None = typer.Option(
        None, "--capabilities", help="What the server offers, e.g. n_samples,seed,structured_output (openai; no probe)."),
    backend_option: list[str] = typer.Option(
        [], "--backend-option", help="Backend option NAME=VALUE (repeatable), e.g. max_model_len=4096 or "
        "gpu_memory_utilization=0.8 for vllm (other names go to vllm.LLM), device=cpu for transformers."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run recorded in OUT.journal."),
    measure: bool = typer.Option(False, "--measure", help="Report diversity metrics of the outputs."),
    novelty: float | None = typer.Option(
        None, "--novelty", help="Reject an output whose cosine similarity to --avoid or earlier outputs exceeds T."),
    avoid: Path | None = typer.Option(
        None, "--avoid", help="Existing pool (any format) whose texts outputs should differ from (with --novelty)."),
    avoid_field: str = typer.Option("output", "--avoid-field", help="Text column of --avoid."),
    as_json: bool = _common.JSON,
    quiet: bool = _common.QUIET,
) -> None:
    """Generate n outputs per prompt with a strategy and a backend; a stopped run resumes with --resume."""
    from quadiv.generate import get_strategy, load_prompts, make_backend, run_generation

    params = _common.parse_params(param)
    _check_generate_output(output, [prompts, avoid, params.get("avoid")])
    chosen = get_strategy(strategy, **params)
    if novelty is not None:
        from quadiv.generate import NoveltyFilter

        chosen = NoveltyFilter(chosen, novelty, avoid_texts=None if avoid is None else str(avoid), field=avoid_field)
    elif avoid is not None:
        raise UsageError("--avoid needs --novelty T (or pass it to the negative strategy: --param avoid=FILE)")
    items = load_prompts(prompts, field)
    declared = None if capabilities is None else [c.strip() for c in capabilities.split(",") if c.strip()]
    options = _common.parse_params(backend_option, "--backend-option")
    model_backend = make_backend(backend, model, options, base_url=base_url, concurrency=concurrency, timeout=timeout,
                                 capabilities=declared)
    try:
        with _common.progress(f"generating ({strategy})", len(items) * n, quiet) as advance:
            result = run_generation(items, chosen, model_backend, output, n=n, seed=seed, concurrency=concurrency,
                                    resume=resume, progress=advance)
    finally:
        close = getattr(model_backend, "close", None)
        if close is not None:
            close()
    report = {"output": str(output), "rows": result.rows, "prompts": result.prompts, "n": n,
              "strategy": chosen.name, "params": chosen.params(), "backend": backend, "model": model,
              "resumed": result.resumed, "generated": result.generated, "seconds": result.seconds,
              "usage": result.usage}
    if measure:
        report["metrics"] = measure_output(output)
    if as_json:
        print(json.dumps(_common.finite(report), default=str))
    else:
        _print(report)


def _check_generate_output(output: Path, inputs: list[Any]) -> None:
    """Before any work: OUT's folder exists, and neither OUT nor its journal is an input or a journal."""
    from quadiv.generate import journal_path

    paths = [Path(i) for i in inputs if isinstance(i, (str, Path))]
    overwrite = "quadiv never overwrites its input; choose another --output"
    _common.check_output(output, others=[(given, f"the input file {given}: {overwrite}") for given in paths])
    if output.name.endswith(".journal"):
        raise UsageError(f"--output {output} names a journal (.journal): choose another output file")
    for given in paths:
        if given.resolve() == journal_path(output).resolve():
            raise UsageError(f"the input {given} is where the journal of --output {output} goes: quadiv never "
                             "overwrites its input; choose another --output")


def measure_output(output: Path) -> dict[str, float]:
    """The default measure metrics of the output texts (static embedder), with per-prompt diversity."""
    from quadiv import io
    from quadiv.embed import embed
    from quadiv.measure import measure

    table = io.read(output, columns=["text", "prompt_id"])
    texts = io.render_texts(table, "text", path=str(output))
    prompt_ids = io.string_column(table, "prompt_id", path=str(output))
    return measure(embed(texts, embedder="static"), texts, input_ids=prompt_ids)["metrics"]


def _print(report: dict) -> None:
    from rich.table import Table

    usage = report["usage"]
    print(f"{report['output']}: {report['rows']} rows ({report['prompts']} prompts x {report['n']}), "
          f"{report['strategy']} on {report['backend']}:{report['model']}")
    table = Table()
    table.add_column("", no_wrap=True)
    table.add_column("value", justify="right")
    rate = report["generated"] / report["seconds"] if report["seconds"] > 0 else float("nan")
    lines = {"resumed from journal": report["resumed"], "generated now": report["generated"],
             "seconds": report["seconds"], "rows / s": rate, **{k.replace("_", " "): v for k, v in usage.items()},
             **report.get("metrics", {})}
    for name, value in lines.items():
        table.add_row(name, _common.fmt(value))
    _common.console().print(table)
