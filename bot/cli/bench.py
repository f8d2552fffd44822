"""``quotedesk bench``: ingest throughput, answer latency and index memory from 10k to 1M
passages, start-up, and Slack over HTTP; each figure beside a baseline measured in the same
run (see :mod:`bot.bench.run`)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from bot.cli import common

DEFAULT_CORPUS = Path("../shared/eval/rtqa-2022/corpus")


@click.command()
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder to ingest and to draw the large corpora from  [default: {DEFAULT_CORPUS}; "
    "the seeds with --smoke]",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Question set (JSON lines, `q` or `question`)  [default: questions.jsonl beside the "
    "corpus folder, if any]",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="A small run for CI (well under a minute): the seeds, 500 and 2,000 passages.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw answer latency and index memory against corpus size into this PNG.",
)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the table as Markdown into this file.",
)
@click.option(
    "--newsroom",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Measure only this newsroom-shaped set (mixed-format corpus/ beside its plain-text "
    "twin txt/, questions.jsonl, truth.jsonl), e.g. ../shared/eval/newsroom-2022.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the bench's databases and indexes here  [default: a temporary folder, removed]",
)
def bench(
    corpus: Path | None,
    questions: Path | None,
    smoke: bool,
    as_json: bool,
    chart: Path | None,
    markdown: Path | None,
    newsroom: Path | None,
    work_dir: Path | None,
) -> None:
    """Measure ingest, answers from 10k to 1M passages, small corpus changes under a replica
    answering, start-up and Slack over HTTP, each beside a baseline measured in the same run;
    prints a table (a full run takes up to half an hour on two cores)."""
    from bot.bench import report as reporting
    from bot.bench import run

    if chart is not None and not reporting.can_draw():
        common.fail(
            "--chart needs matplotlib: pip install 'quotedesk[bench]'", code=common.EXIT_USAGE
        )
    seeds = common.default_seeds()
    folder = (corpus or (seeds if smoke else DEFAULT_CORPUS)).expanduser()
    if not folder.is_dir():
        common.fail(
            f"no corpus folder {folder}: give one with --corpus (the seeds: --corpus seeds)",
            code=common.EXIT_USAGE,
        )
    folder = folder.resolve()
    question_file = questions or (folder.parent / "questions.jsonl")
    asked = run.read_questions(question_file) if question_file.is_file() else []
    plan = (run.smoke_plan if smoke else run.full_plan)(folder, asked)
    if newsroom is not None:
        plan = dataclasses.replace(plan, newsroom=newsroom.resolve())
    command = (
        "quotedesk bench " + " ".join(sys.argv[2:]) if len(sys.argv) > 1 else "quotedesk bench"
    )
    report = reporting.Report(command=command.strip(), machine=reporting.machine())
    with common.user_errors(), run.work_dir(work_dir) as work:
        bench_run = run.Bench(plan, work, report, say=run.stderr_say, seeds=seeds.resolve())
        bench_run.run()
    if chart is not None:
        reporting.chart(report, chart)
    if markdown is not None:
        markdown.write_text(reporting.markdown(report) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        sys.exit(common.EXIT_ERROR if bench_run.failed else 0)
    console = common.make_console()
    console.print(reporting.table(report))
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    console.print(
        f"{report.machine.get('cores')} cores, {report.machine.get('cpu')}; "
        f"{report.seconds / 60:.1f} min",
        markup=False,
    )
    if bench_run.failed:
        sys.exit(common.EXIT_ERROR)
