"""``quotedesk channels``: which collections a Slack channel answers from (``set``, ``list``,
``unset``), and which channels are help channels.

A channel nobody mapped answers from every collection, as direct messages always do. The
settings live in the bot's store, beside its other records; the bot reads them as it answers,
so a change needs no restart.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import common
from retrieval.errors import UserError

if TYPE_CHECKING:
    from bot.store import ChannelSetting

# A public (C...) or private (G...) channel's id, as Slack shows it.
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
DM_ID = re.compile(r"D[A-Z0-9]{2,}")
HELP_CHANNEL = "help channel: top-level questions answered without a mention"


@click.group()
def channels() -> None:
    """Which collections each Slack channel answers from. A channel not mapped answers from
    every collection, as direct messages do."""


@channels.command("set", short_help="Map a channel to the collections it answers from.")
@click.argument("channel_id", metavar="CHANNEL_ID")
@click.argument("collections", nargs=-1, required=True, metavar="COLLECTION...")
@click.option(
    "--answer-questions",
    is_flag=True,
    help="Make it a help channel: its top-level questions are answered without a mention.",
)
@common.data_dir_option
def set_command(
    channel_id: str, collections: tuple[str, ...], answer_questions: bool, data_dir: Path | None
) -> None:
    """Make CHANNEL_ID (C... or G..., from the channel's details in Slack) answer from the
    COLLECTIONs only (as `quotedesk sources` names them), replacing what it had: without
    --answer-questions it answers only when mentioned."""
    from bot.store import BotStore, ChannelSetting

    with common.user_errors():
        check_channel_id(channel_id)
        desk = common.open_desk(data_dir)
        try:
            check_collections(collections, [c.name for c in desk.store.collections()])
            records = BotStore(desk.store)
            records.set_channel(ChannelSetting(channel_id, collections, answer_questions))
            setting = records.channel(channel_id)
        finally:
            desk.store.close()
    if setting is not None:
        common.make_console().print(f"set {describe(setting)}", markup=False)


@channels.command("list", short_help="List the mapped channels.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per channel, per line.")
@common.data_dir_option
def list_command(as_json: bool, data_dir: Path | None) -> None:
    """List the mapped channels, their collections, and whether they answer questions."""
    from bot import terminal
    from bot.store import BotStore

    with common.user_errors():
        desk = common.open_desk(data_dir)
        try:
            settings = BotStore(desk.store).channels()
        finally:
            desk.store.close()
    if as_json:
        for setting in settings:
            terminal.print_json(
                {
                    "channel": setting.channel_id,
                    "collections": list(setting.collections),
                    "answer_questions": setting.answer_questions,
                },
                sys.stdout,
            )
        return
    console = common.make_console()
    if not settings:
        console.print(
            "No channel is mapped: every channel answers from every collection.", markup=False
        )
    for setting in settings:
        console.print(describe(setting), markup=False)


@channels.command("unset", short_help="Let a channel answer from every collection.")
@click.argument("channel_id", metavar="CHANNEL_ID")
@common.data_dir_option
def unset_command(channel_id: str, data_dir: Path | None) -> None:
    """Let CHANNEL_ID answer from every collection again (and only when mentioned)."""
    from bot.printable import printable
    from bot.store import BotStore

    with common.user_errors():
        desk = common.open_desk(data_dir)
        try:
            was_mapped = BotStore(desk.store).unset_channel(channel_id)
        finally:
            desk.store.close()
    shown = printable(channel_id)
    common.make_console().print(
        f"{shown} answers from every collection again"
        if was_mapped
        else f"{shown} was not mapped: it answers from every collection",
        markup=False,
    )


def check_channel_id(channel_id: str) -> None:
    """Raise unless ``channel_id`` looks like a Slack channel's id.

    Example:
        >>> check_channel_id("C0123ABCD")
        >>> try:
        ...     check_channel_id("D0123ABCD")
        ... except UserError as exc:
        ...     print(str(exc).split(";")[0])
        D0123ABCD is a direct message: direct messages answer from every collection
    """
    if CHANNEL_ID.fullmatch(channel_id):
        return
    if DM_ID.fullmatch(channel_id):
        raise UserError(
            f"{channel_id} is a direct message: direct messages answer from every collection; "
            "map a channel (C... or G...)"
        )
    raise UserError(
        f"{channel_id!r} is not a Slack channel id: it looks like C0123ABCD (C or G, then "
        "capital letters and digits; Slack shows it at the bottom of the channel's details)"
    )


def check_collections(wanted: tuple[str, ...], known: list[str]) -> None:
    """Raise unless every collection in ``wanted`` is ``known``, naming the known ones.

    Example:
        >>> check_collections(("news",), ["archive", "news"])
        >>> check_collections(("sport",), ["archive", "news"])
        Traceback (most recent call last):
        ...
        retrieval.errors.UserError: no collection named sport; the corpus has: archive, news
    """
    unknown = [name for name in dict.fromkeys(wanted) if name not in known]
    if not unknown:
        return
    what = f"no collection{'s' if len(unknown) > 1 else ''} named {', '.join(unknown)}"
    if not known:
        raise UserError(f"{what}: the corpus has none yet; ingest first")
    raise UserError(f"{what}; the corpus has: {', '.join(known)}")


def describe(setting: ChannelSetting) -> str:
    """One line for a channel's setting.

    Example:
        >>> from bot.store import ChannelSetting
        >>> describe(ChannelSetting("C1", ("archive", "news"), True))
        'C1: archive, news (help channel: top-level questions answered without a mention)'
    """
    from bot.printable import printable

    line = printable(f"{setting.channel_id}: {', '.join(setting.collections)}")
    return f"{line} ({HELP_CHANNEL})" if setting.answer_questions else line
