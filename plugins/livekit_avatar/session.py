"""``AvatarSession``: a Facecast avatar in a LiveKit Agents room, rendered in the agent's process."""

from __future__ import annotations

from livekit import rtc
from livekit.agents.voice.avatar import AvatarOptions, AvatarRunner, QueueAudioOutput
from livekit.agents.voice.avatar import AvatarSession as _LiveKitAvatarSession

from .generator import FacecastVideoGenerator


class AvatarSession(_LiveKitAvatarSession):
    """``await AvatarSession(avatar="demo").start(agent_session, room)`` — like the hosted avatar plugins.

    The agent's speech is routed into a ``QueueAudioOutput``; an ``AvatarRunner`` feeds it to a
    :class:`FacecastVideoGenerator` and publishes the rendered video and the speech as the room's
    local participant (the agent itself), so no second participant or avatar service is needed.
    Interruptions reach the generator through the runner's ``clear_buffer``; the runner reports
    playback finished (position, interrupted) back to the agent.
    """

    def __init__(self, *, avatar: str = "demo", width: int = 512, height: int = 512, fps: int = 25,
                 sample_rate: int = 24000, backend: str | None = None, **generator_options) -> None:
        super().__init__()
        self._settings = dict(avatar=avatar, width=width, height=height, fps=fps, sample_rate=sample_rate,
                              backend=backend, **generator_options)
        self._options = AvatarOptions(video_width=width, video_height=height, video_fps=float(fps),
                                      audio_sample_rate=sample_rate, audio_channels=1)
        self.generator: FacecastVideoGenerator | None = None
        self.audio_output: QueueAudioOutput | None = None
        self.runner: AvatarRunner | None = None
        self._room_ref: rtc.Room | None = None

    @property
    def avatar_identity(self) -> str:
        """The agent's own identity: the avatar is published by the agent's participant."""
        room = self._room_ref
        return room.local_participant.identity if room is not None and room.isconnected() else ""

    @property
    def provider(self) -> str:
        return "facecast"

    async def start(self, agent_session, room: rtc.Room) -> None:
        self._room_ref = room
        settings = dict(self._settings)
        self.generator = await FacecastVideoGenerator.create(settings.pop("avatar"), **settings)
        try:
            self.audio_output = QueueAudioOutput(sample_rate=self._options.audio_sample_rate)
            self.runner = AvatarRunner(room, audio_recv=self.audio_output, video_gen=self.generator,
                                       options=self._options)
            await self.runner.start()
            await super().start(agent_session, room)
        except BaseException:
            await self.aclose()
            raise
        agent_session.output.audio = self.audio_output

    async def aclose(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.aclose()
        if self.generator is not None:
            generator, self.generator = self.generator, None
            await generator.aclose()
        await super().aclose()
