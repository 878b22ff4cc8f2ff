"""Facecast built-in plugins: each subpackage is registered through the `facecast` entry-point group."""
