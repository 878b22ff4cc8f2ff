"""Hook specifications: what a Facecast plugin can provide.

A plugin is a module (or object) with functions marked ``@engine.hookimpl`` whose
names are the hooks below. It is found through the ``facecast`` entry-point group
of its distribution, exactly like the built-in plugins under ``plugins/``::

    [project.entry-points.facecast]
    my_transport = "my_package.facecast_plugin"

Registration hooks receive a ``register`` callback; call it once per thing the
plugin provides. Names are global per kind: two plugins registering the same
name for the same kind is an error that names both. ``FACECAST_LOAD_PLUGINS``
(a comma-separated list of entry-point names) restricts which plugins load.

Every registered thing implements the ``typing.Protocol`` of its kind in
``engine.contracts``; the rules written there are the contract the conformance
suite (``facecast conformance``) checks. A plugin imports only ``engine``,
``engine.contracts`` and ``engine.kit`` (the supported plugin kit); docs/plugins.md
is the author's guide, with a complete example of each kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .contracts import (AudioSink, BackendScore, MotionGenerator, ProbeResult, Renderer, StarvationPolicy,
                            Transport, TransportContext)

    TransportFactory = Callable[[TransportContext], Transport]
    RendererFactory = Callable[[], Renderer]
    Probe = Callable[[], ProbeResult]
    StarvationPolicyFactory = Callable[[], StarvationPolicy]
    AudioSinkFactory = Callable[..., AudioSink]  # (sample_rate: int, **options)
    MotionGeneratorFactory = Callable[[int, int, int], MotionGenerator]  # (sample_rate, expression_count, seed)

hookspec = pluggy.HookspecMarker("facecast")
hookimpl = pluggy.HookimplMarker("facecast")


@hookspec
def register_transports(register: Callable[[str, TransportFactory], None]) -> None:
    """Register client transports: ``register(name, factory)``; returns nothing.

    ``factory(context: engine.contracts.TransportContext) -> Transport`` is
    called once per ``AvatarController`` that selects ``name``: ``direct`` in
    direct mode and ``backend`` in backend mode unless ``Configuration.transport``
    names another. The transport carries the app's audio to the Motion Server
    (docs/protocol.md) and hands every animation message it receives, as raw
    envelope bytes, to ``context.listener``. It runs on the controller's asyncio
    loop, must never block it, and must report failures through the listener as
    ``AvatarError`` rather than raise out of its tasks. See
    ``engine.contracts.Transport``; a transport selected in backend mode must
    implement ``engine.contracts.BackendFeed`` instead (the app's server holds
    the session and the app yields what it relays). Checked by
    ``facecast conformance --transport NAME`` / ``--backend-feed NAME``.
    """


@hookspec
def register_renderers(register: Callable[[str, RendererFactory, Probe], None]) -> None:
    """Register render backends: ``register(name, factory, probe)``; returns nothing.

    ``probe() -> engine.contracts.ProbeResult`` says, quickly and without side
    effects, whether the backend can run on this machine and whether it uses a
    GPU. It is called by ``AvatarSDK.device_score()`` in a subprocess (a driver
    crash or hang must not take the app down). ``factory() -> Renderer`` makes
    one renderer per ``AvatarView``; the renderer consumes the shared prepare
    stage (``engine.kit.PreparedFrame``: projected, depth-sorted splats) and
    never re-implements it. Its calls come from one render thread per context.
    An app selects it with ``Configuration(renderer=name)``. Built in: ``cpu``,
    ``wgpu``, ``opengl``. See ``engine.contracts.Renderer``; checked by
    ``facecast conformance --renderer NAME``.
    """


@hookspec
def register_starvation_policies(register: Callable[[str, StarvationPolicyFactory], None]) -> None:
    """Register frame-starvation policies: ``register(name, factory)``; returns nothing.

    A policy decides what the avatar shows, and whether audio waits, when the
    audio clock has run past the last motion keyframe received. ``factory()``
    returns a fresh ``engine.contracts.StarvationPolicy`` per controller; its
    methods run on the render tick and must not block or allocate. An app selects
    one with ``controller.frame_starvation_mode = name``. The seed's modes
    ``audioIndependent`` and ``strictSync`` map to ``audio_independent`` and
    ``strict_sync``; ``hold_last`` and ``ease_to_idle`` are built in too. Checked
    by ``facecast conformance --starvation-policy NAME``.
    """


@hookspec
def register_audio_sinks(register: Callable[[str, AudioSinkFactory], None]) -> None:
    """Register audio outputs: ``register(name, factory)``; returns nothing.

    ``factory(sample_rate: int, **options) -> engine.contracts.AudioSink``. A
    sink plays PCM16 mono and is the master clock: it reports how many samples
    the device has actually played. Its device callback must never block,
    allocate or take a lock the render thread can hold; underruns play silence
    and are counted. An app selects one with
    ``controller.set_audio_sink(name, **options)`` before audio starts, or for
    every controller with ``FACECAST_AUDIO_SINK=name``. Built in: ``sounddevice``,
    ``virtual``, ``file``. Checked by ``facecast conformance --audio-sink NAME``.
    """


@hookspec
def register_motion_generators(register: Callable[[str, MotionGeneratorFactory], None]) -> None:
    """Register server-side motion generators: ``register(name, factory)``; returns nothing.

    ``factory(sample_rate: int, expression_count: int, seed: int) ->
    engine.contracts.MotionGenerator`` is called once per server session. The
    generator turns PCM16 speech into FLAME keyframes at 25 fps with bounded
    latency and state. A server selects one with
    ``MotionServer(motion_generator=name)``. Built in: ``phoneme`` (the default) and
    ``procedural``. Checked by
    ``facecast conformance --motion-generator NAME``.
    """


@hookspec(firstresult=True)
def choose_renderer(scores: Sequence[BackendScore]) -> str | None:
    """Override the device-score choice of render backend (``firstresult``: the first non-None answer wins).

    ``scores`` lists one ``engine.contracts.BackendScore`` (name, available,
    gpu, ms per frame, reason) per registered renderer. Return a backend name to
    use it, or ``None`` to let the engine pick (fastest measured; a GPU backend
    wins when it is within 10 % of the fastest).
    """


__all__ = ["hookimpl", "hookspec"]
