"""What every ``quotedesk`` command shares: options, consoles, opening the desk, ingesting with a
progress bar, and turning the core's errors into one line and an exit code.

Command modules import this one; it imports no command module.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bot import logs, terminal
from bot.printable import printable
from retrieval.errors import QuotedeskError, UserError
from retrieval.tuning import Mode, RetrievalConfig

if TYPE_CHECKING:
    from retrieval.embedder import Encoder
    from retrieval.engine import QuoteDesk
    from retrieval.ingest import IngestReport
    from retrieval.ingest import Progress as Callbacks
    from retrieval.web.fetch import Fetcher

EXIT_ERROR = 1  # the environment: data directory, model, database, credentials
EXIT_USAGE = 2  # the input: something the user can fix (click uses 2 for bad options too)

# The defaults every front end shares: -k's range comes from here, so there is one limit.
DEFAULTS = RetrievalConfig()
MODE_NAMES = tuple(mode.value for mode in Mode)

# Piped output is never wrapped nor cut: wide enough for any table or quote. Nothing printed
# expands to the console's width, so this adds no padding.
PIPED_WIDTH = 100_000

F = TypeVar("F", bound=Callable[..., Any])


def make_console(*, stderr: bool = False) -> Console:
    """A console for this run: coloured and fitted to a terminal, plain and unwrapped when piped.

    Made per command rather than at import, so that the environment of the run
    (``FORCE_COLOR``, ``TTY_COMPATIBLE``, ``NO_COLOR``, ``COLUMNS``) and the stream in place
    then decide.
    """
    console = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=PIPED_WIDTH)


def notice(message: str, *, level: int = logging.INFO, style: str = "dim") -> None:
    """Tell the operator ``message`` on stderr: printed in ``style`` (its control characters
    made visible), or, when logs are JSON (``--log-format json``), logged at ``level`` by the
    ``bot.cli`` logger (which :func:`bot.logs.configure` lets through, ``-v`` or not), so
    that every line on stderr is JSON."""
    if logs.settings().format == "json":
        logging.getLogger(logs.CLI_LOGGER).log(level, "%s", message)
    else:
        make_console(stderr=True).print(printable(message), style=style, markup=False)


def fail(message: str, *, code: int) -> NoReturn:
    """Print ``error: message`` on stderr (:func:`notice`) and exit with ``code``.

    The message may quote a question or a path: its control characters are made visible.
    """
    notice("error: " + message, level=logging.ERROR, style="red")
    sys.exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the core's errors into one clear line: exit 2 for a :class:`UserError` (the input),
    exit 1 for any other :class:`QuotedeskError` (the environment)."""
    try:
        yield
    except UserError as exc:
        fail(str(exc), code=EXIT_USAGE)
    except QuotedeskError as exc:
        fail(str(exc), code=EXIT_ERROR)


def data_dir_option(func: F) -> F:
    """``--data-dir``; without it, :class:`retrieval.settings.Settings` reads
    ``QUOTEDESK_DATA_DIR`` (the one reader of the core's settings)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where the database and index live (env QUOTEDESK_DATA_DIR, default ./.quotedesk).",
    )(func)


def mode_option(func: F) -> F:
    """``--mode``, one of :class:`Mode` (default: the configuration's)."""
    return click.option(
        "--mode",
        type=click.Choice(MODE_NAMES),
        default=DEFAULTS.mode.value,
        show_default=True,
        callback=lambda _ctx, _param, value: Mode(value),
        help="Which evidence ranks the passages.",
    )(func)


class Day(click.ParamType):
    """A day written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None):  # type: ignore[no-untyped-def]
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r}: takes a date as YYYY-MM-DD", param, ctx)


def as_of_option(func: F) -> F:
    """``--as-of YYYY-MM-DD``: the moment of asking ("this week" is that week); default today."""
    return click.option(
        "--as-of",
        "as_of",
        type=Day(),
        default=None,
        help="Ask as of this day: time words count from it.  [default: today]",
    )(func)


def k_option(*, default: int) -> Callable[[F], F]:
    """``-k``: quotes per question, from 1 to the configuration's ``max_k``."""
    return click.option(
        "-k",
        "k",
        default=default,
        show_default=True,
        type=click.IntRange(1, DEFAULTS.max_k),
        help="Quotes per question.",
    )


def default_seeds() -> Path:
    """``./seeds`` when there is one (run from a checkout), else the seeds shipped as package
    data (``bot/seeds``: in a checkout, a link to ``seeds/``)."""
    here = Path.cwd() / "seeds"
    if here.is_dir():
        return here
    return Path(str(resources.files("bot") / "seeds"))


def open_desk(
    data_dir: Path | None,
    *,
    config: RetrievalConfig | None = None,
    database_url: str | None = None,
    encoder: Encoder | None = None,
    model_cache: Path | None = None,
) -> QuoteDesk:
    """The desk over ``data_dir`` (or the environment's), with ``config``.

    Args:
        data_dir: The data directory; ``None`` lets the environment or the default decide.
        config: Retrieval settings; the defaults when omitted.
        database_url: The database; ``None`` lets ``DATABASE_URL`` or the default decide.
        encoder: An encoder to use; by default the desk loads the model on first use, so
            commands that need no model (``sources``, ``serve`` before forking) never load it.
        model_cache: Where the ONNX encoder is built; ``None`` lets the environment or
            ``<data_dir>/models`` decide.
    """
    from retrieval.engine import QuoteDesk
    from retrieval.settings import Settings

    settings = Settings.resolve(
        data_dir=data_dir, database_url=database_url, model_cache=model_cache
    )
    return QuoteDesk(settings, config=config, encoder=encoder)


def ingest_with_progress(
    desk: QuoteDesk, folder: Path, *, prune: bool = False, collection: str | None = None
) -> IngestReport:
    """Run an ingest with a progress bar on stderr and skipped files named as they come."""
    with _progress() as callbacks:
        report = desk.ingest(folder, prune=prune, progress=callbacks, collection=collection)
    _print_report(report)
    return report


def _print_report(report: IngestReport) -> None:
    if logs.settings().format == "json":
        notice(report.summary())
    else:
        terminal.print_report(make_console(stderr=True), report)


@contextmanager
def _progress() -> Iterator[Callbacks]:
    """Progress callbacks drawing a bar on stderr (files read, then passages encoded) and
    naming skipped files as they come."""
    from retrieval.ingest import Progress as Callbacks

    stderr = make_console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        # A bar is for a person watching; in a log it would only leave a blank line.
        disable=not stderr.is_terminal or logs.settings().format == "json",
    ) as bar:
        # Reading (web pages, PDFs) comes first and counts files; encoding counts passages.
        task = bar.add_task("reading", total=None, unit="files")

        def on_total(total: int) -> None:
            bar.update(task, description="encoding", total=total, completed=0, unit="passages")

        yield Callbacks(
            on_read=lambda _name: bar.advance(task, 1),
            on_total=on_total,
            on_encoded=lambda n: bar.advance(task, n),
            on_skip=lambda s: notice(
                f"warning: skipped {s.path}: {s.reason}", level=logging.WARNING, style="yellow"
            ),
        )


def ingest_url_with_progress(
    desk: QuoteDesk,
    url: str,
    *,
    fetcher: Fetcher,
    collection: str | None = None,
    max_pages: int | None = None,
) -> IngestReport:
    """Fetch and ingest ``url``, with progress on stderr as :func:`ingest_with_progress`."""
    from retrieval.web.ingest import MAX_PAGES, ingest_into

    with _progress() as callbacks:
        report = ingest_into(
            desk,
            url,
            fetcher=fetcher,
            collection=collection,
            progress=callbacks,
            max_pages=max_pages or MAX_PAGES,
        )
    _print_report(report)
    return report


def ensure_corpus(desk: QuoteDesk) -> None:
    """Ingest the seeds when the data directory holds no corpus yet."""
    if desk.is_empty():
        seeds = default_seeds()
        notice(f"No corpus yet: ingesting {seeds} first.")
        ingest_with_progress(desk, seeds)
