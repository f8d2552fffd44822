"""Bolt listeners: ``events`` (mentions, DMs), ``commands`` (/ask, /sources) and ``actions``
(buttons); ``replies`` holds what they share."""
