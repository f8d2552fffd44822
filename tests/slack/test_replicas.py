"""Replicas of ``quotedesk serve`` started together on one database: the first ingest of the
seeds, which all of them attempt on an empty corpus."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.cli import slack as slack_cli

# --- serve's first ingest, when replicas start together (no processes) ---------------------


def scripted_ingests(monkeypatch: pytest.MonkeyPatch, codes: list[int]) -> list[list[str]]:
    """``subprocess.run`` in ``bot.cli.slack`` answers with ``codes`` in turn; the commands."""
    commands: list[list[str]] = []
    left = iter(codes)

    def run(command: list[str], **_kw: Any) -> SimpleNamespace:
        commands.append(command)
        return SimpleNamespace(returncode=next(left))

    monkeypatch.setattr(slack_cli.subprocess, "run", run)
    return commands


def desk(*, empty: bool) -> Any:
    return SimpleNamespace(is_empty=lambda: empty)


def test_serve_ingests_again_after_losing_the_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest failed, but the corpus is there now: another replica wrote it. Again, once."""
    commands = scripted_ingests(monkeypatch, [1, 0])
    slack_cli.ingest_seeds_first(desk(empty=False), None)
    assert len(commands) == 2 and commands[0] == commands[1]
    assert commands[0][-2:] == ["ingest", str(slack_cli.common.default_seeds())]


def test_serve_stops_when_the_ingest_failed_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed, and the corpus is still empty: no race, a real error; its exit code is passed."""
    commands = scripted_ingests(monkeypatch, [2])
    with pytest.raises(SystemExit) as stopped:
        slack_cli.ingest_seeds_first(desk(empty=True), None)
    assert stopped.value.code == 2 and len(commands) == 1


def test_serve_gives_up_after_a_few_ingests(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = scripted_ingests(monkeypatch, [1] * slack_cli.SEED_ATTEMPTS)
    with pytest.raises(SystemExit) as stopped:
        slack_cli.ingest_seeds_first(desk(empty=False), None)
    assert stopped.value.code == 1 and len(commands) == slack_cli.SEED_ATTEMPTS
