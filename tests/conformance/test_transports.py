"""Run the reusable transport conformance suite on the built-in network transport (direct)."""

from conformance.test_transports import *  # noqa: F401,F403  (pytest collects the imported tests here)
