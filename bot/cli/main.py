"""The ``quotedesk`` click group: every command, added from its own module."""

from __future__ import annotations

import logging

import click

from bot import logs
from bot.cli import (
    ask,
    bench,
    channels,
    corpus,
    db,
    evaluate,
    feedback,
    follow,
    model,
    settings,
    show,
    slack,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@settings.log_options
@click.version_option(package_name="quotedesk")
def cli(verbose: bool, log_format: logs.LogFormat, log_questions: bool) -> None:
    """Answer questions about a document corpus by quoting its passages, with source and date."""
    logs.configure(
        level=logging.INFO if verbose else logging.ERROR,
        log_format=log_format,
        questions=log_questions,
    )


for _command in (
    ask.ask,
    ask.chat,
    bench.bench,
    channels.channels,
    corpus.ingest,
    corpus.sources,
    db.db,
    evaluate.eval_command,
    feedback.feedback,
    follow.follow,
    model.model,
    show.show,
    slack.serve,
    slack.socket,
    slack.simulate,
):
    cli.add_command(_command)


def main() -> None:
    """Run ``quotedesk`` (the console script and ``python -m bot``)."""
    cli(prog_name="quotedesk")
