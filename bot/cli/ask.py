"""``quotedesk ask`` (one-shot answers, text or JSON lines) and ``quotedesk chat`` (a loop)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from bot import terminal
from bot.cli import common
from bot.printable import printable
from retrieval.errors import EmptyQuestionError, UserError
from retrieval.tuning import Mode

EXAMPLE = "why did Baku skip the Washington meeting?"
CHAT_K = 3
QUIT = frozenset({"quit", "exit", ":q"})


def split_questions(words: tuple[str, ...]) -> list[str]:
    """Each argument is a question; unquoted words (no argument with a space) are one question.

    Example:
        >>> split_questions(("why", "did", "Baku", "skip"))
        ['why did Baku skip']
    """
    if len(words) > 1 and not any(" " in w for w in words):
        return [" ".join(words)]
    return list(words)


@click.command()
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question, per line.")
@common.k_option(default=common.DEFAULTS.default_k)
@common.mode_option
@common.as_of_option
@click.option(
    "--after",
    "context",
    metavar="EARLIER",
    multiple=True,
    help="Read QUESTION as a follow-up to this earlier question, as in a Slack thread "
    "(repeat for several, oldest first).",
)
@click.option(
    "--collection",
    "collections",
    metavar="NAME",
    multiple=True,
    help="Quote only this collection (repeatable), as a channel mapped to it does.",
)
@common.data_dir_option
def ask(
    question: tuple[str, ...],
    as_json: bool,
    k: int,
    mode: Mode,
    as_of: date | None,
    context: tuple[str, ...],
    collections: tuple[str, ...],
    data_dir: Path | None,
) -> None:
    """Quote the passages that answer each QUESTION."""
    questions = split_questions(question)
    stdout = common.make_console()
    with common.user_errors():
        if any(not q.strip() for q in questions):
            raise EmptyQuestionError(f'the question is empty: try quotedesk ask "{EXAMPLE}"')
        desk = common.open_desk(data_dir)
        common.ensure_corpus(desk)
        for q in questions:
            answer = desk.ask(
                q,
                k=k,
                mode=mode,
                as_of=as_of,
                context=context,
                collections=collections or None,
            )
            if as_json:
                terminal.print_json(answer.to_dict(), sys.stdout)
            else:
                terminal.print_answer(stdout, answer)


@click.command()
@common.k_option(default=CHAT_K)
@common.mode_option
@common.as_of_option
@common.data_dir_option
def chat(k: int, mode: Mode, as_of: date | None, data_dir: Path | None) -> None:
    """Ask questions one after another; `more` shows the next quotes, `quit` leaves."""
    stdout = common.make_console()
    with common.user_errors():
        desk = common.open_desk(data_dir)
        common.ensure_corpus(desk)
        desk.warm()
    stdout.print(
        "Ask a question (`more` for the next quotes, `quit` or Ctrl-D to leave).", style="dim"
    )
    last: tuple[str, int] | None = None
    # A user error is a hint and the loop goes on; any other error of the core ends it (exit 1).
    with common.user_errors():
        while True:
            try:
                line = click.prompt("?", prompt_suffix=" ", default="", show_default=False)
            except (EOFError, click.Abort):
                stdout.print()
                return
            line = line.strip()
            if line.lower() in QUIT:
                return
            if line.lower() == "more" and last:
                question, offset = last[0], last[1] + k
            else:
                question, offset = line, 0
            try:
                answer = desk.ask(question, k=k, offset=offset, mode=mode, as_of=as_of)
            except UserError as exc:
                stdout.print(printable(f"hint: {exc}"), style="yellow", markup=False)
                continue
            last = (question, offset)
            terminal.print_answer(stdout, answer)
