"""Stand-ins for what the bot talks to, and helpers to run it: tooling, not the product.

Used by the tests, the soak (``tests/slack/soak.py``), ``quotedesk simulate`` and ``quotedesk
bench``; the product (``bot``, ``retrieval``) never imports it (``tests/test_layers.py``). It
needs nothing beyond quotedesk's own dependencies (``slack_sdk``, for the signatures).

- :mod:`standins.workspace`: the ids of the stand-in workspace (team, bot user, app).
- :mod:`standins.calls`: what the stand-in heard (:class:`~standins.calls.Call`), and waiting
  for it.
- :mod:`standins.faults`: how a Web API call misbehaves on purpose
  (:class:`~standins.faults.Fault`).
- :mod:`standins.web_api`: Slack's Web API and ``response_url`` s over HTTP
  (:class:`~standins.web_api.StandIn`).
- :mod:`standins.websocket`: the parts of RFC 6455 a WebSocket server needs (handshake, frames).
- :mod:`standins.socket_mode`: Slack's Socket Mode server
  (:class:`~standins.socket_mode.SocketModeStandIn`).
- :mod:`standins.payloads`: requests as Slack sends them (events, commands, clicks), signed.
- :mod:`standins.processes`: ``quotedesk serve`` in a process of its own, up to a healthy
  ``/healthz`` and stopped after (:func:`~standins.processes.serve_process`), and
  :func:`~standins.processes.free_port`.
"""
