"""``quotedesk eval``: hit@k, MRR, abstention and answer@k of a question set."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import click
from rich.table import Table

from bot.cli import (
    EXIT_USAGE,
    data_dir_option,
    fail,
    ingest_with_progress,
    open_desk,
    stderr,
    stdout,
    user_errors,
)

MODES = ("dense", "lexical", "hybrid")


def eval_data_dir(corpus: Path) -> Path:
    """A data dir of its own per evaluated corpus, so an eval never mixes into the main one."""
    digest = hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:8]
    return Path(".quotedesk") / "eval" / f"{corpus.resolve().name}-{digest}"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


@click.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Ingest this folder (into a data dir of its own) and evaluate on it.",
)
@click.option(
    "--mode",
    "modes",
    type=click.Choice([*MODES, "all"]),
    default=("hybrid",),
    multiple=True,
    show_default=True,
    help="Retrieval mode; repeat it, or say all, to compare.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mode.")
@click.option("--misses", is_flag=True, help="List the questions not answered first.")
@data_dir_option
def eval_command(
    questions: Path,
    corpus: Path | None,
    modes: tuple[str, ...],
    as_json: bool,
    misses: bool,
    data_dir: Path | None,
) -> None:
    """Measure answers on QUESTIONS (JSON lines) over the stored corpus or --corpus."""
    from retrieval.evaluation import evaluate, load_cases

    try:
        cases = load_cases(questions)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    chosen = MODES if "all" in modes else tuple(dict.fromkeys(modes))
    with user_errors():
        desk = open_desk(data_dir or (eval_data_dir(corpus) if corpus else None))
        ingest_seconds = None
        if corpus:
            ingest_seconds = ingest_with_progress(desk, corpus).seconds
        desk.warm()
        reports = [evaluate(desk, cases, mode=mode) for mode in chosen]
    if as_json:
        for report in reports:
            row = {"questions": str(questions), **report.to_dict()}
            row["ingest_seconds"] = ingest_seconds
            if not misses:
                row.pop("misses")
            sys.stdout.write(json.dumps(row) + "\n")
        return
    table = Table(title=f"{questions.name}: {len(cases)} questions")
    for column in (
        "mode",
        "hit@1",
        "hit@3",
        "MRR@5",
        "abstained off-topic",
        "abstained in-domain",
        "answer@1",
        "answer@5",
        "median ms",
    ):
        table.add_column(column, justify="right")
    for r in reports:
        table.add_row(
            r.mode,
            _fmt(r.hit1),
            _fmt(r.hit3),
            _fmt(r.mrr5),
            f"{_fmt(r.abstention)} of {r.off_topic}" if r.off_topic else "–",
            str(r.in_domain_abstained),
            _fmt(r.answer1),
            _fmt(r.answer5),
            f"{r.median_ms:.1f}",
        )
    stdout.print(table)
    if misses:
        for r in reports:
            for miss in r.misses:
                stdout.print(f"{r.mode}: {miss}", markup=False, highlight=False)
    if ingest_seconds is not None:
        stderr.print(f"ingest: {ingest_seconds:.1f}s", markup=False)
