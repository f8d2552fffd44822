"""``quotedesk socket``: Socket Mode, for workspaces where Slack cannot reach a public URL."""

from __future__ import annotations

from bot.slack.app import build_app
from bot.slack.config import SlackConfig
from retrieval import QuoteDesk


def run_socket_mode(*, config: SlackConfig, desk: QuoteDesk) -> None:
    """Load the model and index, connect with the app-level token and serve until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    desk.warm()
    app = build_app(config=config, desk=desk)
    # Bolt's built-in websocket client: no extra dependency; it opens the connection with
    # apps.connections.open on the app's WebClient, so SLACK_API_URL applies here too.
    SocketModeHandler(app, config.app_token).start()
