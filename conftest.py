"""Root conftest: shared fixtures live in tests/fixtures/, one module per real component."""

import os

# Headless defaults for the real Mesa drivers (DESIGN.md §8); a user's own settings win.
os.environ.setdefault("EGL_PLATFORM", "surfaceless")

pytest_plugins = ["tests.fixtures.sdk", "tests.fixtures.server", "tests.fixtures.pulse", "tests.fixtures.xvfb"]
