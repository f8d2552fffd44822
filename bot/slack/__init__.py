"""quotedesk's Slack front end: a Bolt for Python app over :class:`retrieval.QuoteDesk`.

The modules each do one job: ``config`` (environment), ``app`` (the Bolt app), ``listeners``
(events, commands, buttons), ``blocks`` (Block Kit rendering), ``models`` (its tables),
``server`` (WSGI for ``quotedesk serve``), ``socket_mode`` (Socket Mode) and ``simulate`` (the
harness of ``quotedesk simulate``, over the stand-in of Slack in the support package
:mod:`standins`, which nothing else here imports).
"""
