"""The procedurally generated, FLAME-compatible demo head (``demo``), built deterministically from a seed."""
