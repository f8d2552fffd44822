"""The command line, in process (click's runner) and once as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.helpers import ROOT, SEEDS

QUESTION = "why did Baku skip the Washington meeting?"


@pytest.fixture
def run(tmp_path, embedder, monkeypatch):
    """Run the CLI in a fresh data dir, from a folder holding a copy of seeds/."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_ask_json_ingests_seeds_first_and_prints_one_object_per_question(run):
    result = run("ask", "--json", "-k", "3", QUESTION, "What did Blinken ask Aliyev?")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["question"] == QUESTION and first["answered"] is True
    assert len(first["quotes"]) == 3
    for quote in first["quotes"]:
        assert {"source", "date", "text", "score"} <= quote.keys()
        assert isinstance(quote["score"], float)
    top = first["quotes"][0]
    assert top["source"] in {"000_11112fc514e6e23b.txt", "001_cf87b5f311defa2c.txt"}
    assert top["date"] is None
    assert "biased" in top["text"] or "one-sided" in top["text"]
    for quote in first["quotes"] + second["quotes"]:
        if quote["source"].startswith("002"):
            assert quote["date"] == "2023-11-28"
        if quote["source"][:3] in {"000", "001"}:
            assert quote["date"] is None
    assert second["quotes"][0]["source"] == "002_7344d3f17e8d7f1e.txt"


def test_ask_text_output_names_source_and_date(run):
    result = run("ask", QUESTION)
    assert result.exit_code == 0
    assert "undated" in result.stdout
    assert (
        "000_11112fc514e6e23b.txt" in result.stdout or "001_cf87b5f311defa2c.txt" in result.stdout
    )


def test_unquoted_words_are_one_question(run):
    result = run("ask", "--json", "why", "did", "Baku", "skip")
    assert len(result.stdout.strip().splitlines()) == 1
    assert json.loads(result.stdout)["question"] == "why did Baku skip"


@pytest.mark.parametrize("question", ["", "   ", "?!"])
def test_empty_question_gets_a_hint_and_exit_2(run, question):
    result = run("ask", question)
    assert result.exit_code == 2
    assert (
        "error:" in result.stderr
        and "quotedesk ask" in result.stderr
        or "in words" in result.stderr
    )


def test_ingest_missing_folder(run, tmp_path):
    result = run("ingest", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "no such folder" in result.stderr


def test_unusable_data_dir(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("ask", "--data-dir", str(blocker / "sub"), QUESTION)
    assert result.exit_code == 1
    assert "data directory" in result.stderr


def test_ingest_twice_and_sources(run):
    assert "5 added" in run("ingest").stderr
    assert "0 passages encoded" in run("ingest").stderr
    listing = run("sources", "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["date"] for r in rows] == [None, None, "2023-11-28", "2021-10-21", "2023-02-17"]
    assert all(r["passages"] > 0 for r in rows)
    assert "undated" in run("sources").stdout


def test_chat_answers_and_pages(run):
    result = CliRunner().invoke(cli, ["chat", "-k", "2"], input=f"{QUESTION}\nmore\n\nquit\n")
    assert result.exit_code == 0, result.output
    assert "1. " in result.stdout and "3. " in result.stdout
    assert "hint:" in result.stdout


def test_installed_command_runs_as_the_readme_says(tmp_path):
    """The console script, as a new user runs it: a real process, JSON on stdout."""
    exe = Path(sys.executable).parent / "quotedesk"
    env = {**os.environ, "QUOTEDESK_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(
        [str(exe), "ask", "--json", QUESTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answer = json.loads(out.stdout)
    assert answer["quotes"][0]["source"][:3] in {"000", "001"}
    assert "No corpus yet" in out.stderr
    module = subprocess.run(
        [sys.executable, "-m", "bot", "sources", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert len(module.stdout.splitlines()) == 5
