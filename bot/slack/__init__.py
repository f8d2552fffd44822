"""quotedesk's Slack front end: a Bolt for Python app over :class:`retrieval.QuoteDesk`.

The modules each do one job: ``config`` (environment), ``app`` (the Bolt app), ``listeners``
(events, commands, buttons), ``blocks`` (Block Kit rendering), ``models`` (its tables),
``server`` (WSGI for ``quotedesk serve``), ``socket_mode`` (Socket Mode), ``payloads`` (requests as
Slack sends them), ``standin`` (a local stand-in of the Web API) and ``simulate`` (the harness).
"""
