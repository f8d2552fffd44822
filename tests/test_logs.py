"""Logs an operator can keep (:mod:`bot.logs`): JSON lines with their fields, the text lines'
context, personal data kept out unless asked for, and the options of the ``quotedesk`` group.

The Slack side (a whole conversation at DEBUG, ``quotedesk serve --log-format json``) is in
``tests/slack/test_private_logs.py``."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import logs
from bot.cli.main import cli
from tests.helpers import ROOT

QUESTION = "why did Zanzibarian flamingos skip the meeting?"
ASKER = "U0ASKER"


@pytest.fixture
def logged(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own (not propagating) with the handler :func:`bot.logs.configure`
    installs, writing into a buffer; ``request.param``: (format, questions)."""
    log_format: logs.LogFormat
    log_format, questions = getattr(request, "param", ("json", False))
    buffer = io.StringIO()
    logger = logging.getLogger(f"tests.logs.{request.node.name}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = logs.make_handler(buffer, log_format=log_format, questions=questions)
    logger.addHandler(handler)
    try:
        yield logger, buffer
    finally:
        logger.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def in_context(event_id: str | None, version: str | None, fn: object, *args: object) -> None:
    context = contextvars.copy_context()
    context.run(logs.bind, event_id=event_id, corpus_version=version)
    context.run(fn, *args)  # type: ignore[arg-type]


def test_json_lines_parse_and_have_their_fields(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = logged
    logger.info("plain %s", "line")
    in_context("Ev0LOGS", "3f2a9c1e5b7d", logger.warning, "in a request\nover two lines")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    logger.info("a request", extra=logs.fields(path="/slack/events", status=200))
    plain, request, failed, access = lines(buffer)
    for line in (plain, request, failed, access):
        assert {"time", "level", "logger", "message", "event_id", "corpus_version"} <= set(line)
        when = datetime.fromisoformat(str(line["time"]))
        assert when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(None)
        assert abs((datetime.now(UTC) - when).total_seconds()) < 60
        assert line["logger"] == logger.name
    assert (plain["level"], plain["message"], plain["event_id"]) == ("INFO", "plain line", None)
    assert "exc_info" not in plain
    assert request["message"] == "in a request\nover two lines"
    assert (request["event_id"], request["corpus_version"]) == ("Ev0LOGS", "3f2a9c1e5b7d")
    assert failed["level"] == "ERROR"
    assert "Traceback" in str(failed["exc_info"]) and "ValueError: boom" in str(failed["exc_info"])
    assert (access["path"], access["status"]) == ("/slack/events", 200)
    # One line a record whatever a message holds: ASCII, so no character can split it.
    assert len(buffer.getvalue().splitlines()) == 4 and buffer.getvalue().isascii()


@pytest.mark.parametrize("logged", [("text", False)], indirect=True)
def test_text_lines_end_with_their_context(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    logger.info("outside")
    in_context("Ev0LOGS", "3f2a9c1e5b7d", logger.info, "inside")
    in_context("123.456.trigger", None, logger.info, "an interaction")
    assert buffer.getvalue().splitlines() == [
        f"INFO {logger.name}: outside",
        f"INFO {logger.name}: inside [Ev0LOGS v3f2a9c1e]",
        f"INFO {logger.name}: an interaction [123.456.trigger]",
    ]


def test_personal_data_stays_out_by_default(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    logger.info("not answered (QueryError)", extra=logs.personal(QUESTION))
    logger.warning("asked by %s in C0GENERAL (Ev0123)", ASKER)
    try:
        raise KeyError(f"W0ENTERPRISE1 and {ASKER}")
    except KeyError:
        logger.exception("failed")
    # The libraries that log payloads: DEBUG dropped, INFO and above kept.
    for name in ("slack_bolt.App", "slack_sdk.web.base_client", "urllib3.connectionpool"):
        library = logging.getLogger(name)
        record = library.makeRecord(name, logging.DEBUG, "", 0, f"body {QUESTION}", (), None)
        logger.handle(record)
        kept = library.makeRecord(name, logging.INFO, "", 0, "retrying", (), None)
        logger.handle(kept)
    text = buffer.getvalue()
    assert "Zanzibarian" not in text and ASKER not in text and "W0ENTERPRISE1" not in text
    found = lines(buffer)
    assert [line["message"] for line in found[:2]] == [
        "not answered (QueryError)",
        "asked by [user] in C0GENERAL (Ev0123)",  # channels and events are no one's
    ]
    assert "KeyError: '[user] and [user]'" in str(found[2]["exc_info"])
    assert [line["logger"] for line in found[3:]] == [
        "slack_bolt.App",
        "slack_sdk.web.base_client",
        "urllib3.connectionpool",
    ]


@pytest.mark.parametrize("logged", [("json", True)], indirect=True)
def test_questions_logged_when_asked_for(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, buffer = logged
    logger.info("not answered (QueryError)", extra=logs.personal(QUESTION))
    logger.warning("asked by %s", ASKER)
    debug = logging.getLogger("slack_sdk").makeRecord(
        "slack_sdk", logging.DEBUG, "", 0, f"body {QUESTION}", (), None
    )
    logger.handle(debug)
    assert [line["message"] for line in lines(buffer)] == [
        f"not answered (QueryError): {QUESTION}",
        f"asked by {ASKER}",
        f"body {QUESTION}",
    ]


# The group's options as a command sees them (a process of its own: under pytest the root
# logger has handlers already, and configure leaves them be).
SETTINGS_SEEN = r"""
import sys
from bot import logs
from bot.cli.main import cli
try:
    cli.main(sys.argv[1:], prog_name="quotedesk")
except SystemExit:
    pass
print(logs.settings().format, logs.settings().questions)
"""


def quotedesk(args: list[str], env: dict[str, str], script: str | None = None) -> tuple[str, str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("QUOTEDESK_", "SLACK_"))},
        **env,
    }
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "bot"]
    done = subprocess.run(
        [*command, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    return done.stdout, done.stderr


@pytest.mark.parametrize(
    ("args", "env", "seen"),
    [
        ([], {}, "text False"),
        ([], {"QUOTEDESK_LOG_FORMAT": "JSON", "QUOTEDESK_LOG_QUESTIONS": "1"}, "json True"),
        ([], {"QUOTEDESK_LOG_FORMAT": "", "QUOTEDESK_LOG_QUESTIONS": "0"}, "text False"),
        (
            ["--log-format", "json", "--log-questions"],
            {"QUOTEDESK_LOG_FORMAT": "text"},
            "json True",
        ),
    ],
)
def test_the_group_reads_its_options_and_the_environment(
    args: list[str], env: dict[str, str], seen: str
) -> None:
    stdout, _ = quotedesk([*args, "channels", "--help"], env, script=SETTINGS_SEEN)
    assert stdout.splitlines()[-1] == seen


def test_a_bad_log_format_is_a_usage_error() -> None:
    bad = CliRunner().invoke(cli, ["channels", "--help"], env={"QUOTEDESK_LOG_FORMAT": "xml"})
    assert bad.exit_code == 2 and "--log-format" in bad.output


def test_the_commands_errors_are_json_lines_too(tmp_path: Path) -> None:
    env = {"QUOTEDESK_LOG_FORMAT": "json", "QUOTEDESK_DATA_DIR": str(tmp_path / "data")}
    _, stderr = quotedesk(["serve"], env)  # no Slack credentials
    [line] = [json.loads(line) for line in stderr.splitlines()]
    assert (line["level"], line["logger"]) == ("ERROR", "bot.cli")
    assert str(line["message"]).startswith("error: ") and "SLACK_" in str(line["message"])


CONFIGURED = r"""
import logging, warnings
from bot import logs
logs.configure(level=logging.INFO, log_format="json")
logs.configure(level=logging.INFO, log_format="json")  # again: replaced, not doubled
logging.getLogger("bot.test").info("hello")
logging.getLogger("slack_bolt.App").debug("a payload")
warnings.warn("a library's warning")
"""


def test_configure_installs_one_json_handler_warnings_included() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CONFIGURED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["level"]) for line in found] == [
        ("bot.test", "INFO"),
        ("py.warnings", "WARNING"),
    ]
    assert done.stdout == ""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorns_logs_keep_no_query_string_or_user(
    log_format: logs.LogFormat, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import SimpleNamespace

    from gunicorn.config import Config

    from bot.slack.gunicorn_log import GunicornLogger

    monkeypatch.setattr(logs, "_settings", logs.LogSettings(format=log_format))
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    gunicorn = GunicornLogger(cfg)  # its handlers on this test's captured stdout and stderr
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/healthz",
            "QUERY_STRING": f"user={ASKER}&q=flamingos",
            "RAW_URI": f"/healthz?user={ASKER}&q=flamingos",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_USER_AGENT": "Mozilla/5.0 (a person's browser)",
        }
        response = SimpleNamespace(status="200 OK", sent=31, headers=[])
        gunicorn.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=5))
        gunicorn.error_log.error("Error handling request %s %s", "GET", environ["RAW_URI"])
    finally:
        for log in (gunicorn.error_log, gunicorn.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
    out, err = capsys.readouterr()
    for text in (out, err):
        assert ASKER not in text and "flamingos" not in text and "Mozilla" not in text
    if log_format == "json":
        [access] = [json.loads(line) for line in out.splitlines()]
        assert (access["logger"], access["method"], access["path"]) == (
            "gunicorn.access",
            "GET",
            "/healthz",
        )
        assert (access["status"], access["bytes"], access["duration_ms"]) == (200, 31, 5.0)
        [error] = [json.loads(line) for line in err.splitlines()]
        assert error["message"] == "Error handling request GET /healthz"
    else:
        assert out.rstrip().endswith("[ACCESS] GET /healthz 200 31 B 5.0 ms")
        assert err.rstrip().endswith("[ERROR] Error handling request GET /healthz")
