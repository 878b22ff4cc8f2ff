"""The renderer-rule, backend-feed and motion-generator suites on every built-in (and installed) plugin."""

from conformance.test_backend_feeds import *  # noqa: F401,F403  (pytest collects the imported tests here)
from conformance.test_motion_generators import *  # noqa: F401,F403
from conformance.test_renderer_rules import *  # noqa: F401,F403
