"""Conversation rounds: one round is the audio of one ``conversation id`` and the motion that goes with it."""

from __future__ import annotations

import uuid

from ..motion.layout import MOTION_FPS


def new_conversation_id() -> str:
    """A fresh, unique conversation id (also the protocol's ``req_id`` in direct mode)."""
    return uuid.uuid4().hex


class PlaybackRound:
    """Bookkeeping of one round; owned by the controller and touched only under its lock.

    Audio sample k of the round sits at stream position ``start_pos + k`` of the sink, so the
    round's time at a heard position is ``(position - start_pos) / sample_rate``. Keyframe i
    covers round time ``[i/25, (i+1)/25)``; keyframes ``[0, frames_end)`` have arrived.
    """

    __slots__ = ("id", "start_pos", "written", "audio_ended", "motion", "frames_end", "motion_ended",
                 "audio_only", "speech_shown", "finished")

    def __init__(self, conversation_id: str, start_pos: int, motion) -> None:
        self.id = conversation_id
        self.start_pos = start_pos
        self.written = 0  # samples of this round accepted so far
        self.audio_ended = False  # end=True seen
        self.motion = motion  # a MotionBuffer, or None for an audio-only round
        self.frames_end = 0
        self.motion_ended = motion is None
        self.audio_only = motion is None
        self.speech_shown = False  # the animation state went to mono for this round
        self.finished = False

    @property
    def end_pos(self) -> int:
        return self.start_pos + self.written

    def time_at(self, position: int, sample_rate: int) -> float:
        return max(0, position - self.start_pos) / sample_rate

    def covered_pos(self, sample_rate: int) -> int:
        """Stream position up to which the received keyframes cover the audio."""
        return self.start_pos + (self.frames_end * sample_rate) // MOTION_FPS

    def make_audio_only(self) -> None:
        self.audio_only = True
        self.motion_ended = True
        if self.motion is not None:
            self.motion.clear()

    def reached_end(self, position: int) -> bool:
        return self.audio_ended and position >= self.end_pos
