"""Deliberately broken plugins, one defect each, that the conformance suite must fail.

They are registered the way a third party's are (an entry point of a distribution: see
``tests/conformance/test_broken_plugins.py``), so the suite meets them exactly as it meets a user's.
"""
