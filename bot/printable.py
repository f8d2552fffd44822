"""Text from users and corpus files, made safe to show on a terminal or in Slack.

A corpus file, a file name or a question can hold control characters: ``ESC [ 2 J`` clears a
terminal, other escape sequences retitle its window or rewrite what was printed, and
bidirectional overrides make text display in another order than it reads. Front ends show
such text through :func:`printable`, which swaps each of those characters for a visible
stand-in, one character for one, so offsets into the text (highlights, cuts) stay valid.
"""

from __future__ import annotations

from retrieval.query import BIDI_CONTROLS

# Control Pictures (U+2400 block) for C0 controls: NUL shows as ␀, ESC as ␛, DEL as ␡.
# Line breaks and tabs are layout, not controls, and are kept.
_KEPT = "\n\t"
_TABLE: dict[int, str] = {
    code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in _KEPT
}
_TABLE[0x7F] = "\u2421"
# C1 controls (0x80-0x9f; 0x9b is a one-byte CSI for some terminals) and bidirectional
# formatting characters have no picture: the replacement character stands in.
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0)})
_TABLE.update({ord(c): "\ufffd" for c in BIDI_CONTROLS})
# Line and paragraph separators: a terminal shows them as nothing; they are line breaks.
_TABLE.update({0x2028: "\n", 0x2029: "\n"})

UNSAFE = frozenset(chr(code) for code in _TABLE)


def printable(text: str) -> str:
    """``text`` with every control character swapped for a visible stand-in, one for one.

    Example:
        >>> printable("red\\x1b[31m \\u202eevil\\n")
        'red␛[31m \\ufffdevil\\n'
    """
    return text.translate(_TABLE)
