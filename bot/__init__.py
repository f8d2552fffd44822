"""quotedesk's front ends: the command line and the Slack bot, both over :mod:`retrieval`."""
