"""Plugin conformance suite: `facecast conformance --renderer NAME ...` (see docs/plugins.md).

It is also a pytest plugin, loaded automatically once Facecast is installed (entry point
``facecast_conformance`` in group ``pytest11``): ``pytest --pyargs conformance.test_renderers
--facecast-renderer NAME``.
"""
