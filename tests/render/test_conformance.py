"""Run the reusable renderer conformance suite on the built-in backends (cpu, wgpu, opengl)."""

from conformance.test_renderers import *  # noqa: F401,F403  (pytest collects the imported tests here)
