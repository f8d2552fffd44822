"""Hypothesis' settings for the fuzz tests, loaded by importing this module before any
``@settings``: fuzz tests run in the normal suite, each bounded by its own max_examples and
deadline; no example database is left behind, and CI tries the same examples every run.

Kept out of conftest.py so that a run without fuzz tests (the fast tier) never imports
Hypothesis.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
