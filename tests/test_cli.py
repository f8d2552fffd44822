"""The command line, in process (click's runner) and as a real subprocess.

Most tests run the CLI on the fake encoder (``tests.helpers.FakeEncoder``): they check what
the CLI does (arguments, output, exit codes), not how well the model ranks, and stay fast. Tests
with the real model carry ``@pytest.mark.slow``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import Result

from bot.cli import common
from bot.terminal import EVAL_COLUMNS
from tests.helpers import GOLDEN, ROOT, Run, copy_data_dir, golden, runner

if TYPE_CHECKING:
    from retrieval.embedder import TorchEncoder

QUESTION = "why did Baku skip the Washington meeting?"
BAD_FILTER = "since:yesterday x"
BLINKEN_FILE = "002_7344d3f17e8d7f1e.txt"
STABLE_ANSWER = {"question", "answered", "quotes", "related", "offset"}
STABLE_QUOTE = {
    "source",
    "date",
    "title",
    "text",
    "score",
    "similarity",
    "passage_id",
    "start",
    "end",
    "highlights",
    "also_in",
    "collection",
    "url",
}
ANSI = re.compile(r"\x1b\[")


def source_text(path: Path) -> str:
    """A corpus file's text as the core reads it: UTF-8, BOM stripped, newlines as LF."""
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture
def seeded(workdir: Path, seeded_data: Path) -> Path:
    """The data dir holds the seeds already (a copy of ``seeded_data``), as after the first
    ``ask``: for tests of what comes after it. ``ask`` on an empty data dir ingesting the
    seeds first is tested on its own."""
    return copy_data_dir(seeded_data, workdir / "data", database="quotedesk.db")


@pytest.fixture
def run_real(workdir: Path, encoder: TorchEncoder, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on the real model (loaded once per session)."""
    return runner(encoder, monkeypatch)


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    """A few questions of the seed golden set: 4 labeled, 2 off-topic (eval's speed scales with
    the questions, and these tests check the command, not the figures)."""
    path = tmp_path / "golden-few.jsonl"
    rows = golden()[:4] + golden("off_topic")[:2]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def stored_paths(run: Run) -> list[str]:
    result = run("sources", "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line)["source"] for line in result.stdout.splitlines()]


# --- ask -----------------------------------------------------------------------------------


def test_ask_json_has_every_stable_field_and_quotes_verbatim(run: Run, workdir: Path) -> None:
    # On an empty data dir: the first ask ingests the seeds of the working folder.
    result = run("ask", "--json", "-k", "4", QUESTION)
    assert result.exit_code == 0, result.output
    assert "No corpus yet: ingesting" in result.stderr
    [line] = result.stdout.splitlines()
    answer = json.loads(line)
    assert answer.keys() >= STABLE_ANSWER
    assert answer["question"] == QUESTION and answer["answered"] is True
    assert answer["related"] == [] and answer["offset"] == 0
    assert 1 <= len(answer["quotes"]) <= 4
    for quote in answer["quotes"]:
        assert quote.keys() >= STABLE_QUOTE
        text = source_text(workdir / "seeds" / quote["source"])
        # Every word shown stands in the source: the quote is its text at start:end.
        assert quote["text"] == text[quote["start"] : quote["end"]]
        assert quote["date"] in {None, "2023-11-28", "2021-10-21", "2023-02-17"}
        assert isinstance(quote["score"], float) and isinstance(quote["similarity"], float)
        assert isinstance(quote["passage_id"], int)
        assert quote["title"] is None or isinstance(quote["title"], str)
        for start, end in quote["highlights"]:
            assert 0 <= start < end <= len(quote["text"])
        for other in quote["also_in"]:
            assert other.keys() >= {"source", "date", "title"}


@pytest.mark.usefixtures("seeded")
def test_ask_text_output_names_source_and_date(run: Run) -> None:
    result = run("ask", QUESTION)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Q: {QUESTION}\n1. ")
    assert re.search(r"^1\. 00[01]_\w+\.txt · undated  score \d\.\d\d$", result.stdout, re.M)


@pytest.mark.usefixtures("seeded")
def test_unquoted_words_are_one_question(run: Run) -> None:
    result = run("ask", "--json", "why", "did", "Baku", "skip")
    assert len(result.stdout.strip().splitlines()) == 1
    assert json.loads(result.stdout)["question"] == "why did Baku skip"


@pytest.mark.parametrize("question", ["", "   ", "?!"])
@pytest.mark.usefixtures("seeded")
def test_empty_question_gets_a_hint_and_exit_2(run: Run, question: str) -> None:
    result = run("ask", question)
    assert result.exit_code == 2
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: ") and ("quotedesk ask" in error or "in words" in error)


def test_a_bad_filter_is_a_user_error_exit_2(run: Run) -> None:
    result = run("ask", BAD_FILTER)
    assert result.exit_code == 2
    assert result.stderr.endswith("\nerror: since: takes a date as YYYY-MM-DD, not 'yesterday'\n")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_k_is_limited_by_the_configuration(run: Run) -> None:
    too_many = common.DEFAULTS.max_k + 1
    result = run("ask", "-k", str(too_many), QUESTION)
    assert result.exit_code == 2
    assert f"1<=x<={common.DEFAULTS.max_k}" in result.stderr


@pytest.mark.usefixtures("seeded")
def test_ask_mode_takes_the_modes_of_the_core(run: Run) -> None:
    assert run("ask", "--mode", "lexical", QUESTION).exit_code == 0
    result = run("ask", "--mode", "fuzzy", QUESTION)
    assert result.exit_code == 2
    assert "'dense', 'lexical', 'hybrid'" in result.stderr


def test_unusable_data_dir_exits_1(run: Run, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("ask", "--data-dir", str(blocker / "sub"), QUESTION)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "data directory" in result.stderr


# --- ingest, sources -----------------------------------------------------------------------


def test_ingest_missing_folder_exits_2(run: Run, tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "no such folder" in result.stderr


def test_ingest_twice_and_sources(run: Run) -> None:
    assert "5 added" in run("ingest").stderr
    assert "0 passages encoded" in run("ingest").stderr
    listing = run("sources", "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["date"] for r in rows] == [None, None, "2023-11-28", "2021-10-21", "2023-02-17"]
    assert all(r["passages"] > 0 for r in rows)
    assert "undated" in run("sources").stdout


def test_ingest_one_file(run: Run, workdir: Path) -> None:
    result = run("ingest", str(workdir / "seeds" / BLINKEN_FILE))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.stderr
    [row] = [json.loads(line) for line in run("sources", "--json").stdout.splitlines()]
    assert row["source"] == BLINKEN_FILE and row["date"] == "2023-11-28"


def test_ingest_prune_forgets_deleted_files(run: Run, workdir: Path) -> None:
    assert run("ingest", "seeds").exit_code == 0
    gone = "003_f5d439a893dfd6cf.txt"
    (workdir / "seeds" / gone).unlink()
    kept = run("ingest", "seeds")
    assert "0 removed" in kept.stderr and gone in stored_paths(run)
    pruned = run("ingest", "seeds", "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert "1 removed" in pruned.stderr
    paths = stored_paths(run)
    assert gone not in paths and len(paths) == 4


# --- chat ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_chat_answers_and_pages(run: Run) -> None:
    result = run("chat", "-k", "2", input=f"{QUESTION}\nmore\n\nquit\n")
    assert result.exit_code == 0, result.output
    assert "\n1. " in result.stdout and "\n3. " in result.stdout
    assert "hint:" in result.stdout


@pytest.mark.usefixtures("seeded")
def test_chat_bad_filter_is_a_hint_and_the_chat_goes_on(run: Run) -> None:
    result = run("chat", input=f"{BAD_FILTER}\n{QUESTION}\nquit\n")
    assert result.exit_code == 0, result.output
    hint = result.stdout.index("hint: since: takes a date as YYYY-MM-DD")
    assert result.stdout.index(f"Q: {QUESTION}\n1. ") > hint


# --- eval ----------------------------------------------------------------------------------


def eval_rows(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_eval_all_modes_as_json(run: Run, questions: Path) -> None:
    rows = eval_rows(run("eval", str(questions), "--corpus", "seeds", "--mode", "all", "--json"))
    assert [r["mode"] for r in rows] == ["dense", "lexical", "hybrid"]
    for row in rows:
        assert row["labeled"] == 4 and row["off_topic"] == 2
        assert 0.0 <= row["hit1"] <= row["hit3"] <= 1.0  # type: ignore[operator]
        assert row["p95_ms"] >= row["median_ms"] > 0  # type: ignore[operator]
        assert "misses" not in row


def test_eval_one_mode_table_with_misses(run: Run) -> None:
    result = run("eval", str(GOLDEN), "--corpus", "seeds", "--mode", "lexical", "--misses")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "seeds.jsonl: 58 questions"
    rows = [line for line in lines if re.match(r"│ +(dense|lexical|hybrid) │", line)]
    assert len(rows) == 1 and "lexical" in rows[0]
    misses = [line for line in lines if not line.startswith(("│", "┃", "┏", "┡", "└", "seeds"))]
    miss = re.compile(r"lexical: (rank [\d-]+|answered off-topic): ")
    assert misses and all(miss.match(m) for m in misses)


def test_eval_corpus_gets_a_data_dir_and_database_of_its_own(
    run: Run, workdir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "small"
    corpus.mkdir()
    (corpus / "owls.txt").write_text(" date 2024-03-01 Owls hunt at night and sleep by day.\n")
    (corpus / "bees.md").write_text("Bees make honey from the nectar of flowers.\n")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "what do bees make?", "sources": ["bees.md"], "contains": "honey"})
        + "\n"
    )
    [row] = eval_rows(run("eval", str(questions), "--corpus", str(corpus), "--json"))
    assert row["mode"] == "hybrid" and row["labeled"] == 1 and row["hit1"] == 1.0
    assert isinstance(row["ingest_seconds"], float)
    assert stored_paths(run) == []  # the main data dir holds nothing of it
    [own] = (workdir / "data" / "eval").iterdir()
    assert own.name.startswith("small-") and (own / "quotedesk.db").is_file()


def test_eval_set_overrides_the_configuration(run: Run, questions: Path) -> None:
    args = ("eval", str(questions), "--corpus", "seeds", "--json")
    [row] = eval_rows(run(*args, "--set", "mode=lexical", "--set", "min_similarity=0.3"))
    assert row["mode"] == "lexical"  # the configuration's mode is the one evaluated
    assert row["config"]["min_similarity"] == 0.3
    # The override reaches the ranking: nothing clears an impossible threshold.
    [default] = eval_rows(run(*args))
    [strict] = eval_rows(run(*args, "--set", "min_similarity=1.5"))
    assert default["in_domain_abstained"] == 0
    assert strict["in_domain_abstained"] == default["labeled"] + default["with_answer"] > 0
    unknown = run(*args, "--set", "no_such_field=1")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: --set takes FIELD=VALUE with FIELD one of: ")
    assert "dense_weight" in unknown.stderr
    unreadable = run(*args, "--set", "dense_weight=heavy")
    assert unreadable.exit_code == 2 and "cannot read 'heavy'" in unreadable.stderr


def test_eval_bad_question_file_exits_2(run: Run, tmp_path: Path) -> None:
    questions = tmp_path / "bad.jsonl"
    questions.write_text("not json\n")
    result = run("eval", str(questions))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {questions}:1: not a question line")


# --- terminal vs piped ---------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_piped_output_is_plain_whole_and_unpadded(run: Run, questions: Path) -> None:
    answer = run("ask", QUESTION)
    table = run("eval", str(questions), "--corpus", "seeds", "--mode", "dense", "--misses")
    for result in (answer, table):
        assert result.exit_code == 0, result.output
        assert not ANSI.search(result.stdout) and not ANSI.search(result.stderr)
        assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == []
    # A quote's paragraphs are whole lines, not wrapped at 80 columns.
    first = json.loads(run("ask", "--json", QUESTION).stdout)["quotes"][0]["text"]
    paragraph = max(first.split("\n"), key=len)
    assert len(paragraph) > 80 and f"   {paragraph}\n" in answer.stdout
    # The table is not cut to 80 columns: its header words are whole, all on one line.
    header = next(line for line in table.stdout.splitlines() if line.startswith("┃"))
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == list(EVAL_COLUMNS)


@pytest.mark.usefixtures("seeded")
def test_terminal_output_is_coloured(
    run: Run, questions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    answer = run("ask", QUESTION)
    table = run("eval", str(questions), "--corpus", "seeds")
    assert ANSI.search(answer.stdout) and ANSI.search(table.stdout)
    # Fitted to the terminal: no line is wider than its 100 columns.
    plain = re.sub(r"\x1b\[[\d;]*m", "", answer.stdout)
    assert max(len(line) for line in plain.splitlines()) <= 100


# --- the real model --------------------------------------------------------------------------


@pytest.mark.slow
def test_ask_json_ingests_seeds_first_and_ranks_with_the_model(run_real: Run) -> None:
    result = run_real("ask", "--json", "-k", "3", QUESTION, "What did Blinken ask Aliyev?")
    assert result.exit_code == 0, result.output
    assert "No corpus yet" in result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["question"] == QUESTION and first["answered"] is True
    assert len(first["quotes"]) == 3
    top = first["quotes"][0]
    assert top["source"] in {"000_11112fc514e6e23b.txt", "001_cf87b5f311defa2c.txt"}
    assert top["date"] is None
    assert "biased" in top["text"] or "one-sided" in top["text"]
    for quote in first["quotes"] + second["quotes"]:
        if quote["source"].startswith("002"):
            assert quote["date"] == "2023-11-28"
        if quote["source"][:3] in {"000", "001"}:
            assert quote["date"] is None
    assert second["quotes"][0]["source"] == BLINKEN_FILE


@pytest.mark.slow
def test_installed_command_runs_as_the_readme_says(tmp_path: Path) -> None:
    """The console script, as a new user runs it: a real process, JSON on stdout."""
    exe = Path(sys.executable).parent / "quotedesk"
    env = {**os.environ, "QUOTEDESK_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)

    def quotedesk(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=check
        )

    out = quotedesk(str(exe), "ask", "--json", QUESTION)
    answer = json.loads(out.stdout)
    assert answer["quotes"][0]["source"][:3] in {"000", "001"}
    assert "No corpus yet" in out.stderr
    module = quotedesk(sys.executable, "-m", "bot", "sources", "--json")
    assert len(module.stdout.splitlines()) == 5
    bad = quotedesk(str(exe), "ask", BAD_FILTER, check=False)
    assert bad.returncode == 2
    assert bad.stderr == "error: since: takes a date as YYYY-MM-DD, not 'yesterday'\n"


# --- the moment of asking ---------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_as_of_is_reported_and_time_words_say_what_they_preferred(run: Run) -> None:
    question = "what did Blinken tell Aliyev this week?"
    result = run("ask", "--json", "--as-of", "2023-11-30", question)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["as_of"] == "2023-11-30"
    assert answer["period"] == {"from": "2023-11-27", "to": "2023-12-03", "because": "this week"}
    plain = run("ask", "--as-of", "2023-11-30", question)
    assert 'Preferring documents from 2023-11-27 to 2023-12-03 ("this week")' in plain.stdout
    today = json.loads(run("ask", "--json", QUESTION).stdout)
    assert today["as_of"] == date.today().isoformat() and today["period"] is None


def test_a_bad_as_of_is_a_usage_error(run: Run) -> None:
    result = run("ask", "--as-of", "yesterday", QUESTION)
    assert result.exit_code == 2 and "'yesterday': takes a date as YYYY-MM-DD" in result.output


def test_a_data_dir_that_is_a_file_is_bad_input(
    run: Run, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = workdir / "afile"
    afile.write_text("x")
    given = run("sources", "--data-dir", str(afile))
    assert given.exit_code == 2, given.output
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(afile))
    from_env = run("sources")
    assert from_env.exit_code == 2 and "is a file" in from_env.stderr, from_env.output
