"""The generic motion-generator contract (the conformance suite), run on every registered generator here.

``conformance/test_motion_generators.py`` takes the generator through its ``factory`` fixture, so
these are the same checks a plugin author runs with ``facecast conformance --motion-generator NAME``.
"""

from conformance.test_motion_generators import *  # noqa: F401,F403  (pytest collects the imported tests here)
