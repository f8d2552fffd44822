"""The ids of the workspace the stand-in plays: what ``auth.test`` answers, what the signed
payloads carry, what Socket Mode's ``hello`` names."""

from __future__ import annotations

BOT_USER_ID = "U0QUOTEDESK"
BOT_ID = "B0QUOTEDESK"
TEAM_ID = "T0QUOTEDESK"
APP_ID = "A0QUOTEDESK"
