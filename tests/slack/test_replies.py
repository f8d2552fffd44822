"""What the listeners share: reading a question out of Slack's markup, and turning errors into
the usage help, a hint or an apology."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.slack.blocks import APOLOGY, USAGE, Message
from bot.slack.listeners import replies
from bot.slack.listeners.replies import deliver, question_from
from retrieval import errors
from retrieval.errors import EmptyQuestionError, QueryError, UserError

BOT = "U0BOT"


@pytest.mark.parametrize(
    ("text", "question"),
    [
        # users: the bot's own mention and unlabelled users vanish, a label stays
        ("<@U0BOT> why?", "why?"),
        ("<@U0BOT|quotedesk>   spaced\n out ", "spaced out"),
        ("ask <@U123> about it", "ask about it"),
        ("ask <@U123|alice> about it", "ask alice about it"),
        ("ask <@W123|bob>", "ask bob"),
        # channels
        ("in <#C123|general>?", "in general?"),
        ("in <#C123> today", "in today"),
        # links and e-mail
        ("see <http://x.example|label> now", "see label now"),
        ("see <http://x.example> now", "see http://x.example now"),
        ("see <https://x.example/a?b=1&amp;c=2>", "see https://x.example/a?b=1&c=2"),
        ("mail <mailto:a@b.c|a@b.c>", "mail a@b.c"),
        ("mail <mailto:a@b.c>", "mail a@b.c"),
        # broadcasts, user groups, dates
        ("<!channel> why", "why"),
        ("<!here> why", "why"),
        ("<!everyone> why", "why"),
        ("ask <!subteam^S1|@team>", "ask @team"),
        ("since <!date^1392734382^{date}|Feb 18>?", "since Feb 18?"),
        # escaping, undone once
        ("why &amp; how?", "why & how?"),
        ("&lt;b&gt; since:2023-01-01", "<b> since:2023-01-01"),
        ("&lt;!channel&gt; typed", "<!channel> typed"),
        ("a &amp;lt; b", "a &lt; b"),
        # labels are escaped text too
        ("<http://x.example|a &amp; b>", "a & b"),
        # nothing left
        ("<@U0BOT> <!here> <#C1>", ""),
        ("", ""),
    ],
)
def test_question_from_slack_text(text: str, question: str) -> None:
    assert question_from(text, bot_user_id=BOT) == question


def test_another_bots_mention_is_a_user_like_any_other() -> None:
    # Without the bot's id (a slash command), its labelled mention reads as its name.
    assert question_from("<@U0BOT|quotedesk> why?") == "quotedesk why?"
    assert question_from("<@U0BOT> why?") == "why?"


# --- deliver -------------------------------------------------------------------------------


class Posts:
    """Records what is posted; fails when told to."""

    def __init__(self, *, fail: bool = False):
        self.messages: list[Message] = []
        self.fail = fail

    def __call__(self, message: Message) -> None:
        if self.fail:
            raise ConnectionError("slack is down")
        self.messages.append(message)

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages]


def raising(error: Exception) -> Any:
    def build() -> Message:
        raise error

    return build


def user_errors(family: type[UserError] = UserError) -> list[type[UserError]]:
    """Every UserError the core defines, however deep."""
    found = []
    for sub in family.__subclasses__():
        if sub.__module__ == errors.__name__:
            found.append(sub)
        found += user_errors(sub)
    return found


class NotYetWrittenError(UserError):
    """One the core may add later: caught as one of the family."""


LOG = logging.getLogger("tests.slack.replies")


def test_an_answer_is_posted_and_nothing_aside() -> None:
    post, aside = Posts(), Posts()
    deliver(post, lambda: {"text": "answer", "blocks": []}, logger=LOG, aside=aside)
    assert (post.texts, aside.texts) == (["answer"], [])


def test_an_empty_question_gets_the_usage_help_aside() -> None:
    post, aside = Posts(), Posts()
    deliver(post, raising(EmptyQuestionError("no words")), logger=LOG, aside=aside)
    assert (post.texts, aside.texts) == ([], [USAGE])


@pytest.mark.parametrize(
    "kind",
    [k for k in user_errors() if not issubclass(k, EmptyQuestionError)] + [NotYetWrittenError],
    ids=lambda kind: kind.__name__,
)
def test_every_user_error_gets_its_hint_aside_not_the_apology(
    kind: type[UserError], caplog: pytest.LogCaptureFixture
) -> None:
    post, aside = Posts(), Posts()
    deliver(post, raising(kind("do <this> & that")), logger=LOG, aside=aside)
    assert post.texts == []
    assert aside.texts == ["do &lt;this&gt; &amp; that"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_core_has_the_user_errors_this_file_expects() -> None:
    # The parametrization above is built from the family; make sure it isn't empty.
    kinds = set(user_errors())
    assert {errors.QueryError, errors.InvalidArgumentError, errors.EmptyQuestionError} <= kinds


def test_without_aside_the_hint_goes_where_the_answer_would() -> None:
    post = Posts()
    deliver(post, raising(QueryError("since: takes a date")), logger=LOG)
    assert post.texts == ["since: takes a date"]


def test_any_other_error_is_logged_and_apologised_for(caplog: pytest.LogCaptureFixture) -> None:
    post, aside = Posts(), Posts()
    deliver(post, raising(KeyError("boom")), logger=LOG, aside=aside)
    assert (post.texts, aside.texts) == ([], [APOLOGY])
    assert "could not answer" in caplog.text and "KeyError: 'boom'" in caplog.text


def test_a_failed_post_is_logged_and_apologised_for_aside(
    caplog: pytest.LogCaptureFixture,
) -> None:
    post, aside = Posts(fail=True), Posts()
    deliver(post, lambda: {"text": "answer", "blocks": []}, logger=LOG, aside=aside)
    assert aside.texts == [APOLOGY]
    assert "could not post the answer" in caplog.text


def test_when_even_the_note_cannot_be_posted_it_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = Posts(fail=True)
    deliver(broken, raising(QueryError("since: takes a date")), logger=LOG)  # must not raise
    assert "could not post this either (19 characters)" in caplog.text
    # What it said (the asker's words, here) only where questions may be logged (bot.logs).
    assert "since: takes a date" not in caplog.messages[-1]
    assert getattr(caplog.records[-1], "quotedesk_personal", None) == "since: takes a date"


def test_answer_leaves_user_errors_to_deliver() -> None:
    class Desk:
        def ask(self, question: str, **kw: Any) -> Any:
            raise QueryError(f"cannot read {question!r}")

    with pytest.raises(QueryError):
        replies.answer(Desk(), replies.AnswerState("q since:x"))  # type: ignore[arg-type]
