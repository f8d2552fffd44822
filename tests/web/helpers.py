"""What the fetching tests share besides fixtures: a fetcher's configuration."""

from __future__ import annotations

from retrieval.web.fetch import FetchConfig

# Tight bounds, so a test that goes wrong fails in seconds; no proxies from the environment;
# the site is on 127.0.0.1, which a default fetcher refuses.
TEST_CONFIG = FetchConfig(
    connect_timeout=2.0, timeout=5.0, trust_env=False, allow_private_addresses=True
)
