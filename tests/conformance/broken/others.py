"""A transport, a backend feed, a motion generator and a starvation policy, each with one defect."""

from __future__ import annotations

import numpy as np

from engine.kit import StarvationDecision, hookimpl


def _registered(kind, name):
    from engine.kit import get_plugin_manager

    return get_plugin_manager().get(kind, name).factory


def interrupt_does_nothing(context):
    transport = _registered("transports", "direct")(context)

    async def interrupt(req_id):
        pass

    transport.interrupt = interrupt
    return transport


def feed_ignores_the_conversation(context):
    feed = _registered("transports", "backend")(context)
    inner = feed.feed

    def feed_any(payloads, conversation_id):
        return inner(payloads, feed.current)

    feed.feed = feed_any
    return feed


class ChunkDependent:
    """The built-in generator, but each chunk's keyframes are nudged by the chunk's length."""

    def __init__(self, sample_rate, expression_count, seed):
        self.inner = _registered("motion_generators", "procedural")(sample_rate, expression_count, seed)

    def feed(self, pcm16):
        frames = self.inner.feed(pcm16)
        return frames + np.float32(1e-3 * (len(pcm16) % 7))

    def finish(self):
        return self.inner.finish()

    def reset(self):
        self.inner.reset()


class LateByOneSecond(ChunkDependent):
    """Holds every keyframe back until a second more audio has arrived."""

    def __init__(self, sample_rate, expression_count, seed):
        super().__init__(sample_rate, expression_count, seed)
        self.held = np.zeros((0, 20 + expression_count), np.float32)

    def feed(self, pcm16):
        self.held = np.concatenate([self.held, self.inner.feed(pcm16)])
        out, self.held = self.held[:-25], self.held[-25:]
        return out

    def finish(self):
        out = np.concatenate([self.held, self.inner.finish()])
        self.held = self.held[:0]
        return out

    def reset(self):
        self.held = self.held[:0]
        self.inner.reset()


class PausesAudioWithoutHoldingIt:
    holds_audio = False
    ease_seconds = 0.0

    def decide(self, starved, starved_for_s, buffered_frames):
        return StarvationDecision.PAUSE_AUDIO if starved else StarvationDecision.PLAY

    def reset(self):
        pass


@hookimpl
def register_transports(register):
    register("interrupt_does_nothing", interrupt_does_nothing)
    register("feed_ignores_the_conversation", feed_ignores_the_conversation)


@hookimpl
def register_motion_generators(register):
    register("chunk_dependent", ChunkDependent)
    register("late_by_one_second", LateByOneSecond)


@hookimpl
def register_starvation_policies(register):
    register("pauses_audio_without_holding_it", PausesAudioWithoutHoldingIt)
