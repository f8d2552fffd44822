"""Only an operator's command fetches: no module of the Slack front end reaches
``retrieval.web``, directly or through the modules it imports."""

from __future__ import annotations

from tests.test_layers import graph


def test_the_slack_front_end_never_reaches_the_fetcher():
    edges = graph()
    reached: dict[str, str] = {}  # module -> the Slack module it was reached from
    stack = [(name, name) for name in edges if name.startswith("bot.slack")]
    while stack:
        name, start = stack.pop()
        if name in reached:
            continue
        reached[name] = start
        stack.extend((dep, start) for dep in edges.get(name, ()) if dep in edges)
    offenders = {n: s for n, s in reached.items() if n.startswith("retrieval.web")}
    assert offenders == {}, f"reached from Slack (module: from): {offenders}"
