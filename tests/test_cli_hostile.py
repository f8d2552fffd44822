"""``quotedesk`` on hostile input: questions and corpus files full of control characters,
escape sequences and bidirectional overrides never reach the terminal raw; questions too long
or without words get a hint."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.printable import printable
from tests.helpers import SEEDS, FakeEncoder, Run, copy_data_dir, runner, seeded_template

# Anything a terminal would act on: ESC, C1 controls (0x9b is a one-byte CSI), bidi overrides.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# What rich itself writes on a colour terminal: SGR sequences only.
SGR = re.compile(r"\x1b\[[\d;]*m")

HOSTILE_TEXT = (
    " date 2024-03-01 The zebra crossing report\n\n"
    "The council said the zebra crossing on Main Street\x1b[2J\x1b]0;pwned\x07 was repainted "
    "in purple \u202eelpruP\u202c after a vote\x9b31m, and the \x7f paint dried overnight.\n"
)
EVIL_NAME = "zebra\x1b[2J.txt"


def hostile_seeds(folder: Path) -> Path:
    """The seeds plus a hostile file and one that is not UTF-8, in ``folder``/seeds."""
    seeds = folder / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / EVIL_NAME).write_text(HOSTILE_TEXT)
    (seeds / "broken\x1b]0;x\x07.txt").write_bytes(b"\xff\xfe not utf-8")
    return seeds


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the hostile seeds (a template: see ``seeded`` below)."""
    folder = tmp_path_factory.mktemp("hostile")
    return seeded_template(folder / "data", hostile_seeds(folder))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on the fake encoder, over the seeds plus a hostile file, output as if piped."""
    monkeypatch.chdir(tmp_path)
    hostile_seeds(tmp_path)
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    return runner(FakeEncoder(), monkeypatch)


@pytest.fixture
def seeded(tmp_path: Path, hostile_data: Path) -> None:
    """The data dir holds the hostile seeds already, as after the first ``ask``: for tests of
    what comes after it. (The warnings of that ask's ingest are tested above, piped and on a
    colour terminal.)"""
    copy_data_dir(hostile_data, tmp_path / "data", database="quotedesk.db")


def assert_nothing_raw(*outputs: str) -> None:
    for output in outputs:
        plain = SGR.sub("", output)
        assert not RAW_CONTROL.search(plain), f"raw control character in {plain!r}"


def test_printable_is_one_for_one_and_leaves_text_alone() -> None:
    text = "a\x1b[2Jb\u202ec\x9bd\x00e\x7f\nf\tg 🙂 👩‍👩‍👧 \u200d"
    shown = printable(text)
    assert len(shown) == len(text)
    assert shown == "a␛[2Jb\ufffdc\ufffdd␀e␡\nf\tg 🙂 👩‍👩‍👧 \u200d"
    assert (
        printable("plain words, “quotes” — and émoji 🙂") == "plain words, “quotes” — and émoji 🙂"
    )


def test_a_corpus_file_with_escape_sequences_is_shown_visibly(run: Run) -> None:
    ingest = run("ingest", "seeds")
    assert ingest.exit_code == 0, ingest.output
    # The unreadable file's name is shown with its escape sequence made visible.
    assert "warning: skipped broken␛]0;x␇.txt: not valid UTF-8" in ingest.stderr
    result = run("ask", "zebra crossing repainted purple")
    assert result.exit_code == 0, result.output
    assert_nothing_raw(result.stdout, result.stderr, ingest.stdout, ingest.stderr)
    assert "zebra␛[2J.txt · 2024-03-01" in result.stdout
    assert "Main Street␛[2J␛]0;pwned␇ was repainted" in result.stdout
    assert "\ufffdelpruP\ufffd" in result.stdout and "\ufffd31m" in result.stdout
    sources = run("sources")
    assert_nothing_raw(sources.stdout)
    assert "zebra␛[2J.txt" in sources.stdout


def test_on_a_colour_terminal_only_rich_writes_escape_sequences(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = run("ask", "zebra crossing repainted purple")
    assert result.exit_code == 0, result.output
    assert SGR.search(result.stdout)  # coloured
    assert_nothing_raw(result.stdout)
    # stderr has rich's progress display (cursor moves) as well: none of the corpus's own.
    for hostile in ("\x1b[2J", "\x1b]0;", "\u202e", "\x9b", "\x07"):
        assert hostile not in result.stderr


@pytest.mark.usefixtures("seeded")
def test_json_escapes_every_control_character_and_stays_verbatim(run: Run) -> None:
    result = run("ask", "--json", "-k", "10", "zebra crossing repainted purple")
    assert result.exit_code == 0, result.output
    assert_nothing_raw(result.stdout)
    answer = json.loads(result.stdout)
    [quote] = [q for q in answer["quotes"] if q["source"] == EVIL_NAME]
    text = HOSTILE_TEXT.replace(" date 2024-03-01 ", "", 1)
    # Escaped on the wire, verbatim once parsed.
    assert quote["text"] in text and "\x1b[2J" in quote["text"] and "\u202e" in quote["text"]
    assert "\\u202e" in result.stdout and "\\u001b" in result.stdout


@pytest.mark.parametrize(
    "question",
    [
        "why did Baku\x1b[2J skip the Washington meeting?",
        "why did Baku\u202e skip the Washington meeting?",
        "why did Baku\x00\x9b skip the Washington meeting?",
    ],
)
@pytest.mark.usefixtures("seeded")
def test_a_question_with_control_characters_is_answered_and_echoed_clean(
    run: Run, question: str
) -> None:
    result = run("ask", question)
    assert result.exit_code == 0, result.output
    assert_nothing_raw(result.stdout, result.stderr)
    first = result.stdout.splitlines()[0]
    assert first.startswith("Q: why did Baku") and first.endswith("skip the Washington meeting?")
    assert "1. " in result.stdout  # answered


@pytest.mark.usefixtures("seeded")
def test_a_40000_character_question_gets_a_hint_and_exit_2(run: Run) -> None:
    result = run("ask", "why " * 10_000)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "error: the question is 39,999 characters long: ask it in at most 1,000 "
        "(the encoder reads no more)"
    )


@pytest.mark.parametrize("question", ["🙂🙂🙂", "\x1b[", "\u202e\u202c", " \t "])
@pytest.mark.usefixtures("seeded")
def test_a_question_without_words_gets_a_hint_and_exit_2(run: Run, question: str) -> None:
    result = run("ask", question)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert_nothing_raw(result.stderr)


@pytest.mark.usefixtures("seeded")
def test_chat_hints_at_a_long_question_and_goes_on(run: Run) -> None:
    result = run("chat", input="x" * 40_000 + "\nwhy did Baku skip the Washington meeting?\n")
    assert result.exit_code == 0, result.output
    assert "hint: the question is 40,000 characters long" in result.stdout
    assert "Q: why did Baku skip the Washington meeting?" in result.stdout
