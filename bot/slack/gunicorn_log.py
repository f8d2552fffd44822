"""gunicorn's error and access logs as ``quotedesk serve`` keeps them: in the format of the
process's own logs (:func:`bot.logs.settings`, which the master's workers inherit when
forked), through :class:`bot.logs.PrivacyFilter`, and an access log of method, path (no query
string), status, size and duration: no client address, user, referrer or browser.

Imported by :func:`bot.slack.server.gunicorn_options` alone, when gunicorn is about to run.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from gunicorn.glogging import Logger

from bot.logs import JsonFormatter, PrivacyFilter, fields, settings

# Of a path, what the access log keeps (a scanner's can be long).
MAX_PATH = 200


def _no_query_string(record: logging.LogRecord) -> bool:
    """gunicorn's "Error handling request URI" names the URI with its query string: the path
    only is kept."""
    if str(record.msg).startswith("Error handling request") and isinstance(record.args, tuple):
        record.args = tuple(
            str(arg).split("?", 1)[0] if str(arg).startswith("/") else arg for arg in record.args
        )
    return True


class GunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's ``logger_class`` for ``quotedesk serve`` (see the module's docstring)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        chosen = settings()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if chosen.format == "json":
                    handler.setFormatter(JsonFormatter())
                elif log is self.access_log:
                    # As gunicorn's error log: its time and process.
                    fmt = "%(asctime)s [%(process)d] [ACCESS] %(message)s"
                    handler.setFormatter(logging.Formatter(fmt, self.datefmt))
                if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
                    handler.addFilter(_no_query_string)
                    handler.addFilter(PrivacyFilter(questions=chosen.questions))

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """One line a request: ``POST /slack/events 200 2 B 5 ms`` (in JSON, those fields
        too: ``method``, ``path``, ``status``, ``bytes``, ``duration_ms``)."""
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        method = str(environ.get("REQUEST_METHOD") or "-")[:16]
        # PATH_INFO is the path without the query string (its own variable, never logged).
        path = ascii(str(environ.get("PATH_INFO") or "-"))[1:-1][:MAX_PATH]
        sent = getattr(resp, "sent", None)
        duration = request_time if isinstance(request_time, dt.timedelta) else dt.timedelta()
        millis = round(duration.total_seconds() * 1000, 1)
        try:
            self.access_log.info(
                "%s %s %s %s B %s ms",
                method,
                path,
                status,
                sent if sent is not None else "-",
                millis,
                extra=fields(
                    method=method,
                    path=path,
                    status=int(status) if status.isdigit() else status,
                    bytes=sent,
                    duration_ms=millis,
                ),
            )
        except Exception:
            self.error_log.exception("could not log a request")
