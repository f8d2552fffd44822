"""``quotedesk serve``'s gunicorn, on the fake desk, with every logger at DEBUG: run as
``python -m tests.slack.served`` by the tests that need a real server (chunked bodies, what
reaches the logs). Configured from the environment as ``quotedesk serve`` is (``PORT``,
``QUOTEDESK_DATA_DIR``, ``SLACK_*``)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from bot.slack.config import SlackConfig
from bot.slack.server import SlackWsgi, create_wsgi_app, gunicorn_options, run_gunicorn
from tests.slack.helpers import fake_desk_at

# Every logger a request passes through, at its most talkative.
DEBUG_LOGGERS = ("slack_bolt", "slack_sdk", "bot", "retrieval", "urllib3", "gunicorn")


def log_everything() -> None:
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in DEBUG_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)


def main() -> None:
    log_everything()
    config = SlackConfig.from_env("http")
    data = Path(os.environ["QUOTEDESK_DATA_DIR"])

    def load() -> SlackWsgi:
        return create_wsgi_app(config=config, desk=fake_desk_at(data))

    options = gunicorn_options(
        host="127.0.0.1", port=int(os.environ["PORT"]), workers=1, threads=2, loglevel="debug"
    )
    run_gunicorn(load, options)


if __name__ == "__main__":
    main()
