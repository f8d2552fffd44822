"""The Slack commands of ``quotedesk``: ``serve`` (HTTP), ``socket`` (Socket Mode) and
``simulate`` (the bot driven locally)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot import logs
from bot.cli import common, settings

if TYPE_CHECKING:
    from retrieval import QuoteDesk

# Tries at ingesting the seeds when serve starts on an empty corpus (see ingest_seeds_first).
SEED_ATTEMPTS = 3


@click.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@settings.serve_options
@common.data_dir_option
def serve(host: str, port: int, workers: int, threads: int, data_dir: Path | None) -> None:
    """Run the Slack bot over HTTP (gunicorn): POST /slack/events, GET /healthz, GET /metrics."""
    from bot.slack.config import SlackConfig
    from bot.slack.server import serve as run
    from bot.store import BotStore
    from retrieval import Settings

    with common.user_errors():
        config = SlackConfig.from_env("http")
        desk = common.open_desk(data_dir)
        try:
            BotStore(desk.store)  # refused here, not in every worker, when behind
            if desk.is_empty():
                ingest_seeds_first(desk, data_dir)
        finally:
            desk.store.close()  # no connection of this process is to be shared by a fork
        run(
            config=config,
            settings=Settings.resolve(data_dir=data_dir),
            host=host,
            port=port,
            workers=workers,
            threads=threads,
        )


def ingest_seeds_first(desk: QuoteDesk, data_dir: Path | None) -> None:
    """Ingest the seeds into the empty corpus of ``desk``, in a child process: the workers are
    forked from this one, and torch is not to be loaded before a fork.

    Replicas started together on one database all find it empty and all ingest; the ones that
    lose the race on the documents' unique key fail. A failed ingest after which the corpus
    is no longer empty lost that race: it is run again, finds the winner's documents unchanged
    (nothing to encode) and adds whatever is still missing. Any other failure, or
    ``SEED_ATTEMPTS`` of them, ends ``serve`` with the child's exit code (it has printed its
    own error).
    """
    # Its lines in the format of this process's (its progress bar only on a terminal).
    ingest = [sys.executable, "-m", "bot", "--log-format", logs.settings().format, "ingest"]
    ingest += [str(common.default_seeds())]
    ingest += ["--data-dir", str(data_dir)] if data_dir else []
    for attempt in range(1, SEED_ATTEMPTS + 1):
        code = subprocess.run(ingest, check=False).returncode
        if code == 0:
            return
        if attempt == SEED_ATTEMPTS or desk.is_empty():
            sys.exit(code)
        common.notice(
            "Another process ingested the seeds into this database at the same time: "
            "ingesting again, which keeps its documents."
        )


@click.command()
@settings.socket_options
@common.data_dir_option
def socket(host: str, port: int | None, data_dir: Path | None) -> None:
    """Run the Slack bot in Socket Mode (no public URL needed; needs SLACK_APP_TOKEN); with
    --port, GET /metrics and GET /healthz on it."""
    from bot.slack.config import SlackConfig
    from bot.slack.retention import HistoryPruner
    from bot.slack.socket_mode import run_socket_mode
    from bot.store import BotStore

    with common.user_errors():
        config = SlackConfig.from_env("socket")
        desk = common.open_desk(data_dir)
        records = BotStore(desk.store)  # refused here when the bot's schema is behind
        common.ensure_corpus(desk)
        # As serve does: old deliveries and feedback forgotten now and once a day.
        HistoryPruner(records, days=config.retention_days).start()
        common.notice("Connecting to Slack in Socket Mode…")
        run_socket_mode(config=config, desk=desk, host=host, port=port)


@click.group()
def simulate() -> None:
    """Drive the Slack bot locally: a signed request through the real Bolt app, against a
    stand-in of Slack's Web API; prints what the bot posted."""


def _simulate(
    kind: str,
    text: str,
    *,
    as_json: bool,
    data_dir: Path | None,
    command: str,
    follow_ups: tuple[str, ...] = (),
) -> None:
    from bot.slack import simulate as harness

    with common.user_errors():
        desk = common.open_desk(data_dir)
        common.ensure_corpus(desk)
        outcome = harness.simulate(
            kind,  # type: ignore[arg-type]
            text,
            desk=desk,
            command=command,
            follow_ups=follow_ups,
        )
    for line in (harness.as_json if as_json else harness.as_text)(outcome):
        click.echo(line)


json_option = click.option("--json", "as_json", is_flag=True, help="The raw payloads, as JSON.")


def _event_command(kind: str, help: str) -> None:
    @simulate.command(name=kind, help=help)
    @click.argument("question")
    @json_option
    @common.data_dir_option
    def run(question: str, as_json: bool, data_dir: Path | None) -> None:
        _simulate(kind, question, as_json=as_json, data_dir=data_dir, command="")


_event_command("mention", "@-mention the bot in a channel with QUESTION.")
_event_command("dm", "Send the bot QUESTION in a direct message.")
_event_command("shortcut", 'Use "Find quotes" on a message that says TEXT (the argument).')


@simulate.command()
@click.argument("question")
@click.argument("follow_ups", nargs=-1, required=True)
@json_option
@common.data_dir_option
def thread(
    question: str, follow_ups: tuple[str, ...], as_json: bool, data_dir: Path | None
) -> None:
    """@-mention the bot with QUESTION, then write each FOLLOW_UP in its thread (no mention)."""
    _simulate(
        "thread", question, as_json=as_json, data_dir=data_dir, command="", follow_ups=follow_ups
    )


@simulate.command()
@json_option
@common.data_dir_option
def home(as_json: bool, data_dir: Path | None) -> None:
    """Open the bot's Home tab."""
    _simulate("home", "", as_json=as_json, data_dir=data_dir, command="")


@simulate.command()
@click.argument("name", type=click.Choice(["/ask", "/sources"]))
@click.argument("text", required=False, default="")
@json_option
@common.data_dir_option
def command(name: str, text: str, as_json: bool, data_dir: Path | None) -> None:
    """Run the slash command NAME (/ask or /sources) with TEXT."""
    _simulate("command", text, as_json=as_json, data_dir=data_dir, command=name)
