"""Retries of Slack Web API and ``response_url`` calls, through slack_sdk's retry handlers,
without ever posting a message twice.

A failure is retried when Slack certainly did nothing, whatever the call:

- 429 (``Retry-After`` honoured, up to ``MAX_RETRY_AFTER`` seconds; beyond, no retry);
- 503 (the server was unable to handle the request);
- an error while connecting or sending (urllib wraps those, and only those, in ``URLError``):
  the request never arrived whole.

A failure after the request arrived (no answer in time, the connection closed or reset while
waiting, 500/502/504, which Slack documents as "some aspect of the operation may have
succeeded") is retried only for calls that a second run cannot make worse (``idempotent``):
reads, ``apps.connections.open``, ``chat.update``, a ``response_url`` post replacing or deleting
the original. A new message (``chat.postMessage``, a ``response_url`` reply) is not retried
then: the listener apologises instead, and a message that did get through is never doubled.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
from collections.abc import Sequence
from ssl import SSLContext
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

from slack_bolt import BoltContext
from slack_bolt.context.respond import Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.http_retry import (
    BackoffRetryIntervalCalculator,
    ConnectionErrorRetryHandler,
    HttpRequest,
    HttpResponse,
    Jitter,
    RateLimitErrorRetryHandler,
    RetryHandler,
    RetryState,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.slack import metrics

# Retries after the first attempt, per call (the handlers share one count).
MAX_RETRIES = 2
# Backoff before retry n (0, 1): BACKOFF * 2**n seconds, plus up to a quarter more.
BACKOFF = 0.25
# A longer Retry-After is not waited for: a listener thread would hang that long.
MAX_RETRY_AFTER = 10.0
# Seconds to wait for one Web API or response_url answer (slack_sdk's default is 30).
TIMEOUT = 10.0

# Web API methods a second call cannot make worse.
IDEMPOTENT_METHODS = frozenset(
    {"auth.test", "apps.connections.open", "chat.update", "bots.info", "team.info"}
)
_READ_SUFFIXES = (".info", ".list", ".history", ".replies")
# What /metrics calls a response_url post (each has its own address).
RESPONSE_URL = "response_url"

log = logging.getLogger(__name__)


class _SmallJitter(Jitter):
    """Up to a quarter of the interval more (slack_sdk's adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 4)


def _backoff() -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=BACKOFF, jitter=_SmallJitter())


def idempotent(request: HttpRequest, *, webhook: bool) -> bool:
    """Whether sending ``request`` twice does no more than sending it once.

    Example:
        >>> idempotent(HttpRequest(method="POST", url="https://slack.com/api/auth.test",
        ...                        headers={}), webhook=False)
        True
    """
    if webhook:  # a response_url: only replacing or deleting the original is idempotent
        try:
            body = json.loads(request.data or b"{}")
        except ValueError:
            return False
        return isinstance(body, dict) and bool(
            body.get("replace_original") or body.get("delete_original")
        )
    method = urlparse(request.url).path.rsplit("/", 1)[-1]
    return method in IDEMPOTENT_METHODS or method.endswith(_READ_SUFFIXES)


class RateLimitRetry(RateLimitErrorRetryHandler):
    """429: nothing was done; wait ``Retry-After`` (if short enough) and try again."""

    def __init__(self, *, max_retry_count: int = MAX_RETRIES, webhook: bool = False):
        super().__init__(max_retry_count=max_retry_count)
        self.webhook = webhook

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and _retry_after(response) <= MAX_RETRY_AFTER
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None  # _can_retry said yes to a response only
        wait = _retry_after(response) + random.random() / 4
        log.info("rate limited: retrying %s in %.1f s", _name(request), wait)
        _count_retry(request, webhook=self.webhook, reason="rate_limited")
        state.next_attempt_requested = True
        time.sleep(wait)
        state.increment_current_attempt()


class _Counted(RetryHandler):
    """A retry handler whose every retry is counted (``/metrics``) under ``reason``."""

    reason = ""
    webhook = False

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        _count_retry(request, webhook=self.webhook, reason=self.reason)
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


class ServerErrorRetry(_Counted, ServerErrorRetryHandler):
    """5xx: 503 always (nothing was done); 500, 502 and 504 for idempotent calls only."""

    reason = "server_error"

    def __init__(self, *, webhook: bool = False):
        super().__init__(max_retry_count=MAX_RETRIES, interval_calculator=_backoff())
        self.webhook = webhook

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        if response.status_code == 503:
            return True
        return response.status_code in (500, 502, 504) and idempotent(request, webhook=self.webhook)


class ConnectionRetry(_Counted, ConnectionErrorRetryHandler):
    """Connection errors and timeouts: before the request was sent, always; after, for
    idempotent calls only.

    slack_sdk's own handler (the default) retries a connection reset or closed while waiting
    for the answer to ``chat.postMessage``: a duplicate whenever Slack had posted.
    """

    reason = "connection"

    def __init__(self, *, webhook: bool = False):
        super().__init__(max_retry_count=MAX_RETRIES, interval_calculator=_backoff())
        self.webhook = webhook

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is None or response is not None:
            return False
        # urllib raises URLError for a failure to connect or to send (HTTPError, a URLError
        # too, carries a response and was excluded above); anything later comes bare.
        if isinstance(error, URLError):
            return True
        after_sending = isinstance(error, OSError | http.client.HTTPException)
        return after_sending and idempotent(request, webhook=self.webhook)


def retry_handlers(*, webhook: bool = False) -> list[RetryHandler]:
    """The handlers for a ``WebClient`` (or, with ``webhook``, a ``WebhookClient``)."""
    rate_limit = RateLimitRetry(max_retry_count=MAX_RETRIES, webhook=webhook)
    return [rate_limit, ServerErrorRetry(webhook=webhook), ConnectionRetry(webhook=webhook)]


class ResponseUrlError(Exception):
    """A ``response_url`` post was not accepted (after the retries)."""


class RetryingRespond(Respond):
    """Bolt's ``respond()`` with the retry handlers and ``TIMEOUT``; it raises
    :class:`ResponseUrlError` on an answer other than 200 (Bolt's returns it), so the
    listener knows the message did not get through.
    """

    def __init__(
        self,
        *,
        response_url: str | None,
        proxy: str | None = None,
        ssl: SSLContext | None = None,
        timeout: float = TIMEOUT,
    ):
        super().__init__(response_url=response_url, proxy=proxy, ssl=ssl)
        self.timeout = timeout

    def __call__(  # the same arguments as Bolt's
        self,
        text: str | dict[Any, Any] = "",
        blocks: Sequence[dict[Any, Any] | Block] | None = None,
        attachments: Sequence[dict[Any, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = WebhookClient(
            url=self.response_url,
            timeout=int(max(1, self.timeout)),
            proxy=self.proxy,
            ssl=self.ssl,
            retry_handlers=retry_handlers(webhook=True),
        )
        if isinstance(text, dict):  # the whole message as one dict
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        try:
            response = client.send_dict(message)
        except Exception:
            metrics.count_api_call(RESPONSE_URL, "error")
            raise
        metrics.count_api_call(RESPONSE_URL, "ok" if response.status_code == 200 else "error")
        if response.status_code != 200:
            raise ResponseUrlError(
                f"response_url answered {response.status_code}: {str(response.body)[:200]}"
            )
        return response


def with_retrying_respond(*, timeout: float = TIMEOUT) -> Any:
    """Bolt middleware: ``respond`` gets :class:`RetryingRespond` (Bolt's own has no retries
    and no way to add them)."""

    def middleware(context: BoltContext, next: Any) -> None:
        if context.response_url:
            context["respond"] = RetryingRespond(
                response_url=context.response_url,
                proxy=context.client.proxy if context.client else None,
                ssl=context.client.ssl if context.client else None,
                timeout=timeout,
            )
        next()

    return middleware


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0  # none given (Slack always gives one)


def _count_retry(request: HttpRequest, *, webhook: bool, reason: str) -> None:
    metrics.count_retry(RESPONSE_URL if webhook else _name(request), reason)


def _name(request: HttpRequest) -> str:
    return urlparse(request.url).path.rsplit("/", 1)[-1] or request.url
