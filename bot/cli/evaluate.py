"""``quotedesk eval``: hit@k, MRR, abstention and answer@k of a question set."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import click

from bot import terminal
from bot.cli import common
from retrieval.errors import InvalidArgumentError
from retrieval.tuning import Mode

ALL = "all"


def eval_data_dir(root: Path, corpus: Path) -> Path:
    """A data dir of its own per evaluated corpus, under ``root`` (the main data dir).

    Example:
        >>> eval_data_dir(Path("/d"), Path("/x/seeds")).as_posix()[:13]
        '/d/eval/seeds'
    """
    digest = hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:8]
    return root / "eval" / f"{corpus.resolve().name}-{digest}"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir.resolve() / 'quotedesk.db'}"


def chosen_modes(names: tuple[str, ...], *, default: Mode) -> tuple[Mode, ...]:
    """The modes to evaluate, in the order given: every one for ``all``, else ``default``.

    Example:
        >>> chosen_modes(("lexical", "dense", "lexical"), default=Mode.HYBRID)
        (<Mode.LEXICAL: 'lexical'>, <Mode.DENSE: 'dense'>)
    """
    if ALL in names:
        return tuple(Mode)
    return tuple(dict.fromkeys(Mode(name) for name in names)) or (default,)


@click.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Ingest this folder (into a data dir of its own) and evaluate on it.",
)
@click.option(
    "--mode",
    "modes",
    type=click.Choice([*common.MODE_NAMES, ALL]),
    multiple=True,
    help="Retrieval mode; repeat it, or say all, to compare.  [default: the configuration's]",
)
@click.option(
    "--set",
    "assignments",
    metavar="FIELD=VALUE",
    multiple=True,
    help="Override a retrieval setting, e.g. --set dense_weight=0.5 (repeatable).",
)
@common.as_of_option
@click.option(
    "--question-dates/--no-question-dates",
    default=True,
    show_default=True,
    help="Ask each question as of its own date (an as_of field, or a qid starting YYYYMMDD_), "
    "which overrides --as-of.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mode.")
@click.option("--misses", is_flag=True, help="List the questions not answered first.")
@common.data_dir_option
def eval_command(
    questions: Path,
    corpus: Path | None,
    modes: tuple[str, ...],
    assignments: tuple[str, ...],
    as_of: date | None,
    question_dates: bool,
    as_json: bool,
    misses: bool,
    data_dir: Path | None,
) -> None:
    """Measure answers on QUESTIONS (JSON lines) over the stored corpus or --corpus."""
    from retrieval.evaluation import evaluate, load_cases
    from retrieval.settings import Settings

    with common.user_errors():
        config = common.DEFAULTS.with_overrides(assignments)
        try:
            cases = load_cases(questions)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from exc
        ingest_seconds = None
        if corpus:
            # A database of its own too, even when DATABASE_URL names a shared one: an
            # evaluation never mixes its corpus into the one users ask.
            main = Settings.resolve(data_dir=data_dir)
            own = eval_data_dir(main.data_dir, corpus)
            # The main data dir's encoder build: not built again for each corpus evaluated.
            desk = common.open_desk(
                own, config=config, database_url=sqlite_url(own), model_cache=main.models_dir
            )
            ingest_seconds = common.ingest_with_progress(desk, corpus).seconds
        else:
            desk = common.open_desk(data_dir, config=config)
        desk.warm()
        reports = [
            evaluate(desk, cases, mode=mode, as_of=as_of, question_dates=question_dates)
            for mode in chosen_modes(modes, default=config.mode)
        ]
    if as_json:
        for report in reports:
            row = {"questions": str(questions), **report.to_dict()}
            row["ingest_seconds"] = ingest_seconds
            row["config"] = config.to_dict()
            if not misses:
                row.pop("misses")
            sys.stdout.write(json.dumps(row) + "\n")
        return
    stdout = common.make_console()
    title = f"{questions.name}: {len(cases)} questions"
    notes = [*assignments]
    if not question_dates:
        notes.append("no question dates")
    if as_of:
        notes.append(f"as of {as_of.isoformat()}")
    if notes:
        title += f" ({', '.join(notes)})"
    terminal.print_eval(stdout, reports, title=title, misses=misses)
    if ingest_seconds is not None:
        common.make_console(stderr=True).print(f"ingest: {ingest_seconds:.1f}s", markup=False)
