"""The ``quotedesk`` command line: ingest, ask, chat, sources."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot import terminal

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)

EXIT_ERROR = 1
EXIT_USAGE = 2


def default_seeds() -> Path:
    """``./seeds`` when run from a checkout, else the seeds beside the installed package."""
    here = Path.cwd() / "seeds"
    return here if here.is_dir() else Path(__file__).resolve().parent.parent / "seeds"


def data_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="QUOTEDESK_DATA_DIR",
        help="Where the database and index live (env QUOTEDESK_DATA_DIR, default ./.quotedesk).",
    )(func)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the core's errors into one clear line and an exit code."""
    from retrieval.errors import CorpusNotFoundError, EmptyQuestionError, QuotedeskError

    try:
        yield
    except (EmptyQuestionError, CorpusNotFoundError) as exc:
        fail(str(exc), EXIT_USAGE)
    except QuotedeskError as exc:
        fail(str(exc), EXIT_ERROR)


def fail(message: str, code: int) -> None:
    stderr.print("error: " + message, style="red", markup=False)
    sys.exit(code)


def open_desk(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from retrieval import QuoteDesk, Settings

    return QuoteDesk(Settings.resolve(data_dir=data_dir))


def ingest_with_progress(desk: Any, folder: Path, *, prune: bool = False) -> Any:
    """Run an ingest with a progress bar on stderr and skipped files named as they come."""
    from retrieval import Progress as Callbacks

    with Progress(
        TextColumn("[bold]encoding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("passages"),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task("encode", total=None)
        callbacks = Callbacks(
            on_total=lambda total: bar.update(task, total=total),
            on_encoded=lambda n: bar.advance(task, n),
            on_skip=lambda s: stderr.print(
                f"warning: skipped {s.path}: {s.reason}", style="yellow", markup=False
            ),
        )
        report = desk.ingest(folder, prune=prune, progress=callbacks)
    terminal.print_report(stderr, report)
    return report


def ensure_corpus(desk: Any) -> None:
    if desk.is_empty():
        seeds = default_seeds()
        stderr.print(f"No corpus yet: ingesting {seeds} first.", style="dim", markup=False)
        ingest_with_progress(desk, seeds)


def split_questions(words: tuple[str, ...]) -> list[str]:
    """Each argument is a question; unquoted words (no argument with a space) are one question."""
    if len(words) > 1 and not any(" " in w for w in words):
        return [" ".join(words)]
    return list(words)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.version_option(package_name="quotedesk")
def cli(verbose: bool) -> None:
    """Answer questions about a document corpus by quoting its passages, with source and date."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


@cli.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove stored documents whose files are gone.")
@data_dir_option
def ingest(path: Path | None, prune: bool, data_dir: Path | None) -> None:
    """Add or update the text files under PATH (default: seeds/)."""
    with user_errors():
        desk = open_desk(data_dir)
        ingest_with_progress(desk, path or default_seeds(), prune=prune)


@cli.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question, per line.")
@click.option(
    "-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="Quotes per question."
)
@data_dir_option
def ask(question: tuple[str, ...], as_json: bool, k: int, data_dir: Path | None) -> None:
    """Quote the passages that answer each QUESTION."""
    from retrieval.errors import EmptyQuestionError

    questions = split_questions(question)
    with user_errors():
        if any(not q.strip() for q in questions):
            raise EmptyQuestionError(
                "the question is empty: try "
                'quotedesk ask "why did Baku skip the Washington meeting?"'
            )
        desk = open_desk(data_dir)
        ensure_corpus(desk)
        for q in questions:
            answer = desk.ask(q, k=k)
            if as_json:
                terminal.print_json(answer.to_dict(), sys.stdout)
            else:
                terminal.print_answer(stdout, answer)


@cli.command()
@click.option("-k", "k", default=3, show_default=True, type=click.IntRange(1, 50))
@data_dir_option
def chat(k: int, data_dir: Path | None) -> None:
    """Ask questions one after another; `more` shows the next quotes, `quit` leaves."""
    from retrieval.errors import EmptyQuestionError

    with user_errors():
        desk = open_desk(data_dir)
        ensure_corpus(desk)
        desk.warm()
    stdout.print(
        "Ask a question (`more` for the next quotes, `quit` or Ctrl-D to leave).", style="dim"
    )
    last: tuple[str, int] | None = None
    while True:
        try:
            line = click.prompt("?", prompt_suffix=" ", default="", show_default=False).strip()
        except (EOFError, click.Abort):
            stdout.print()
            return
        if line.lower() in {"quit", "exit", ":q"}:
            return
        if line.lower() == "more" and last:
            question, offset = last[0], last[1] + k
        else:
            question, offset = line, 0
        try:
            answer = desk.ask(question, k=k, offset=offset)
        except EmptyQuestionError as exc:
            stdout.print(f"hint: {exc}", style="yellow", markup=False)
            continue
        last = (question, offset)
        terminal.print_answer(stdout, answer)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per document, per line.")
@data_dir_option
def sources(as_json: bool, data_dir: Path | None) -> None:
    """List the stored documents with their dates and passage counts."""
    with user_errors():
        infos = open_desk(data_dir).sources()
    if as_json:
        for info in infos:
            terminal.print_json(info.to_dict(), sys.stdout)
    else:
        terminal.print_sources(stdout, infos)


# serve, socket and simulate (Slack) live in their own module, which uses the helpers above.
from bot.slack_commands import COMMANDS  # noqa: E402

for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="quotedesk")


def _register_extra_commands() -> None:
    from bot.eval_command import eval_command

    cli.add_command(eval_command)


_register_extra_commands()
