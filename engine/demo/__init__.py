"""``facecast demo``: the embedded server, the demo avatar and a shipped speech clip, end to end.

``speech.wav`` was made with espeak-ng at development time (16 kHz mono PCM16, ~5 s).
"""

from __future__ import annotations

from pathlib import Path

SPEECH_CLIP = Path(__file__).resolve().parent / "speech.wav"
