"""Answers rendered as Slack messages (Block Kit), built with ``slack_sdk.models`` so they are
validated before they are posted.

Every message is a dict with a ``text`` fallback and ``blocks``. Text from the corpus or from
a user is escaped for mrkdwn (and its control characters made visible), and whatever would
exceed Slack's limits is trimmed with "…".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.labels import context_label, date_label, source_label
from bot.printable import printable
from bot.slack.state import MAX_QUESTION, AnswerState
from retrieval.answer import Answer, Quote, Source, SourceInfo

MAX_TEXT = 3000  # characters in a section or a context element
# A link longer than this is shown as its file's name: it would crowd out the quote's context.
MAX_URL = 1000
MAX_BLOCKS = 50  # blocks in a message
ELLIPSIS = "…"

ACTION_MORE = "qd_more"
ACTION_SHARE = "qd_share"
ACTION_UP = "qd_feedback_up"
ACTION_DOWN = "qd_feedback_down"
ACTION_ASK_AGAIN = "qd_ask_again"

NOT_FOUND = "I couldn't find anything in the documents that answers that."
NO_MORE = "No more quotes for this question."
CUT = f"✂️ Only the first {MAX_QUESTION} characters of the question were read."
APOLOGY = "Sorry, something went wrong while looking that up. It has been logged; please try again."
USAGE = (
    "Ask me a question about the documents and I'll quote the passages that answer it, "
    "with their source and date. For example: `/ask why did Baku skip the Washington meeting?` "
    "or mention me with the question. `/sources` lists the documents."
)

Message = dict[str, Any]


def escape(text: str) -> str:
    """Escape the three characters mrkdwn gives meaning to, so text can't ping or link, and
    make control characters visible (:func:`~bot.printable.printable`), so a bidirectional
    override in a corpus file can't reorder how a quote reads.

    Example:
        >>> escape("<!channel> & <http://evil|click>")
        '&lt;!channel&gt; &amp; &lt;http://evil|click&gt;'
    """
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(render: Callable[[int], str], length: int, limit: int = MAX_TEXT) -> str:
    """``render(length)`` when it fits in ``limit``, else ``render(n)`` for the largest ``n``
    that does; ``render(n)`` must render the first ``n`` characters of its text and mark a cut.

    Example:
        >>> fit(lambda n: "abcdef"[:n] + ("…" if n < 6 else ""), 6, limit=4)
        'abc…'
    """
    whole = render(length)
    if len(whole) <= limit:
        return whole
    low, high = 0, length - 1
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return render(low)


def clipped(raw: str, *, prefix: str = "", limit: int = MAX_TEXT) -> str:
    """``prefix`` then ``raw`` escaped, cut with "…" to fit ``limit``."""

    def render(n: int) -> str:
        return prefix + escape(raw[:n]) + (ELLIPSIS if n < len(raw) else "")

    return fit(render, len(raw), limit)


def quote_mrkdwn(quote: Quote, *, limit: int = MAX_TEXT) -> str:
    """The quote as a mrkdwn block quote, its best-answering sentences in bold."""

    def render(n: int) -> str:
        text = quote.text[:n]
        pieces, position = [], 0
        for start, end in sorted(quote.highlights):
            start, end = max(start, position), min(end, n)
            if start >= end:
                continue
            pieces += [escape(text[position:start]), _bold(text[start:end])]
            position = end
        pieces.append(escape(text[position:]))
        body = "".join(pieces).rstrip() + (ELLIPSIS if n < len(quote.text) else "")
        return "\n".join("> " + line for line in body.split("\n"))

    return fit(render, len(quote.text), limit)


def _bold(text: str) -> str:
    # mrkdwn bold must hug non-space characters and cannot span lines.
    lines = []
    for line in text.split("\n"):
        core = line.strip()
        if core:
            left = line[: len(line) - len(line.lstrip())]
            right = line[len(line.rstrip()) :]
            line = f"{left}*{escape(core)}*{right}"
        lines.append(line)
    return "\n".join(lines)


def answer_message(
    answer: Answer,
    *,
    k: int,
    shareable: bool = False,
    shared_by: str | None = None,
    cut: bool = False,
    asked: int | None = None,
) -> Message:
    """The message for one page of an answer.

    Args:
        answer: What :meth:`QuoteDesk.ask` returned.
        k: Quotes per page (a full page offers "More quotes").
        shareable: Add "Share in channel" (for a private answer to ``/ask``).
        shared_by: The Slack user id of whoever shared it in the channel.
        cut: The question was cut to ``MAX_QUESTION`` characters: say so under it.
        asked: The question's record in the bot's store, for the buttons (a follow-up's next
            page is read with its thread too).

    Example:
        >>> message = answer_message(Answer("why?", answered=False, quotes=()), k=3)
        >>> sorted(message), message["text"]
        (['blocks', 'text'], "I couldn't find anything in the documents that answers that. Q: why?")
    """
    blocks: list[Block] = [_section(clipped(answer.question, prefix="*Q:* "))]
    if cut:
        blocks.append(_context(CUT))
    if shared_by and shared_by.isalnum():  # a real user id only: nothing forged becomes a ping
        blocks.append(_context(f"Shared by <@{shared_by}>"))
    state = AnswerState(answer.question, offset=answer.offset, k=k, as_of=answer.as_of, asked=asked)
    if answer.context:
        blocks.append(_context(clipped(context_label(answer.context), prefix="🧵 ")))
    if answer.period:
        blocks.append(_context(clipped(answer.period.describe(), prefix="🗓️ ")))
    if not answer.answered:
        blocks.append(_section(NOT_FOUND))
        if answer.related:
            related = ", ".join(source_label(s) for s in answer.related)
            blocks.append(_context(clipped(related, prefix="Might be related: ")))
        return _message(_fallback(answer), blocks)
    if not answer.quotes:
        blocks.append(_section(NO_MORE))
        return _message(_fallback(answer), blocks)
    # Room for the quotes between the question (and its note) and the buttons.
    room = (MAX_BLOCKS - len(blocks) - 2) // 2
    for quote in answer.quotes[:room]:
        blocks += [_section(quote_mrkdwn(quote)), _quote_context(quote)]
    if len(answer.quotes) > room:
        blocks.append(_context(f"{ELLIPSIS} {len(answer.quotes) - room} more not shown"))
    passages = tuple(q.passage_id for q in answer.quotes)
    buttons = []
    if shareable:
        buttons.append(_button("Share in channel", ACTION_SHARE, state, style="primary"))
    if len(answer.quotes) >= k:
        buttons.append(_button("More quotes", ACTION_MORE, state.next_page()))
    shown = dataclasses.replace(state, passages=passages)
    buttons += [_button("👍", ACTION_UP, shown), _button("👎", ACTION_DOWN, shown)]
    blocks.append(ActionsBlock(elements=buttons))
    return _message(_fallback(answer), blocks)


def sources_message(infos: Sequence[SourceInfo]) -> Message:
    """The stored documents, one line each, with date and passage count."""
    if not infos:
        return notice("No documents yet: run `quotedesk ingest FOLDER`.")
    lines = [_source_line(info) for info in infos]
    blocks: list[Block] = [_section(f"*{len(infos)} documents*")]
    chunk: list[str] = []
    for number, line in enumerate(lines):
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_TEXT and chunk:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
            if len(blocks) == MAX_BLOCKS - 1:
                blocks.append(_context(f"{ELLIPSIS} and {len(lines) - number} more"))
                return _message(f"{len(infos)} documents", blocks)
        chunk.append(line)
    blocks.append(_section("\n".join(chunk)))
    return _message(f"{len(infos)} documents", blocks)


def _source_line(info: SourceInfo) -> str:
    if safe_url(info.source.url) is not None:
        return cited(info.source, prefix="• ") + f" · {info.passages} passages"
    title = f" — {info.source.title}" if info.source.title else ""
    raw = f"{source_label(info.source)} · {info.passages} passages{title}"
    return clipped(raw, prefix="• ")


def notice(mrkdwn: str) -> Message:
    """A one-line message of the bot's own (already mrkdwn)."""
    return _message(mrkdwn, [_section(mrkdwn)])


def usage_message() -> Message:
    return notice(USAGE)


def apology_message() -> Message:
    return notice(APOLOGY)


def hint_message(hint: str) -> Message:
    """What the asker can fix, in the core's words (a :class:`UserError`'s message). It may
    quote the question, so it is escaped: a typed ``<!channel>`` is shown, not sent.

    Example:
        >>> hint_message("since: takes a date as YYYY-MM-DD, not '<!here>'")["text"]
        "since: takes a date as YYYY-MM-DD, not '&lt;!here&gt;'"
    """
    return notice(clipped(hint))


def cited(source: Source, *, prefix: str = "📄 ") -> str:
    """How a quote's source is cited: its title linked to its URL, with its date; the file's
    name and date where the document names no link.

    Example:
        >>> cited(Source("web/a.html", None, "Talks end", url="https://example.org/a?b=1&c=2"))
        '📄 <https://example.org/a?b=1&amp;c=2|Talks end> · undated'
    """
    link = safe_url(source.url)
    if link is None:
        return clipped(source_label(source), prefix=prefix)
    label = source.title or source.path
    tail = f" · {date_label(source)}"
    head = f"{prefix}<{link}|"
    # Room left for the passage count a listing adds after it.
    room = MAX_TEXT - len(head) - len(tail) - 1 - 40
    return head + clipped(label, limit=max(room, 1)) + ">" + tail


def safe_url(url: str | None) -> str | None:
    """``url`` ready for a mrkdwn link, or ``None`` when it is not a plain web address (only
    http and https are ever linked) or too long to fit a message."""
    if not url or len(url) > MAX_URL or not url.lower().startswith(("http://", "https://")):
        return None
    if any(c.isspace() or not c.isprintable() for c in url):
        return None
    # mrkdwn's own characters: escaped as Slack asks, and "|" (which ends the address) encoded.
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _quote_context(quote: Quote) -> ContextBlock:
    elements = [cited(quote.source)]
    if quote.also_in:
        also = ", ".join(f"{s.path} ({date_label(s)})" for s in quote.also_in)
        elements.append(clipped(also, prefix="also in "))
    return ContextBlock(elements=[MarkdownTextObject(text=e) for e in elements])


def _fallback(answer: Answer) -> str:
    """The notification text: question and where the first quote comes from."""
    if not answer.answered:
        return clipped(answer.question, prefix=NOT_FOUND + " Q: ")
    if not answer.quotes:
        return clipped(answer.question, prefix=NO_MORE + " Q: ")
    first = answer.quotes[0].source
    count = f"{len(answer.quotes)} quote{'s' if len(answer.quotes) != 1 else ''}"
    return clipped(f"{answer.question} — {count}, first from {source_label(first)}", prefix="Q: ")


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn)])


def _button(
    label: str, action_id: str, state: AnswerState, *, style: str | None = None
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label, emoji=True),
        action_id=action_id,
        value=state.value(),
        style=style,
    )


def _message(text: str, blocks: Iterable[Block]) -> Message:
    # to_dict() validates each block against Slack's rules.
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}
