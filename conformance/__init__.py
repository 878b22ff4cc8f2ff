"""Plugin conformance suite (a pytest plugin): `facecast conformance` or `pytest -p conformance.plugin`."""
