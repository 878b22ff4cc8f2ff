"""The RTC case of ``python -m benchmarks e2e``: the same two figures as Direct Mode, over the WebRTC egress.

A backend (the server SDK, ``egress="webrtc"``) streams 40 ms PCM16 chunks at real-time pace to
``facecast serve`` and timestamps each; an ``RtcClient`` in this process joins the session's
egress (aiortc, host candidates on 127.0.0.1 only) and plays it through a controller rendering
at 25 fps into a real-time virtual sink.

- chunk → keyframe decoded: from sending the chunk that completes keyframe i's window to the
  client having keyframe i off the data channel and decoded (``AnimationDecoder``);
- motion-to-audio offset of rendered frames: the controller's own ``FrameRateInfo`` per second of
  device time, as in the Direct Mode row.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from .e2e_load import CHUNK, RATE, send_in_real_time, speech as _speech

RTC_BUDGET_MS = 150.0


async def run_rtc(server, seconds: float, report) -> None:
    """Add the RTC rows to ``report``; ``server`` has ``base_url``, ``app_id`` and ``key``.

    Two rounds, as for Direct Mode: latency with nothing rendering (the client's loop and CPU are
    the transport's alone, like the direct transport row), then the offset with the view
    rendering at 25 fps.
    """
    from engine import AudioFormat, AvatarSDK, Configuration
    from engine.avatar.manager import AvatarManager

    await AvatarSDK.initialize(server.app_id, Configuration(driving_service_mode="backend", transport="rtc",
                                                            audio_format=AudioFormat(sample_rate=RATE)))
    try:
        avatar = await AvatarManager.shared.load("demo")
        latencies, _, _ = await _round(server, avatar, seconds, render=False)
        _, reports, frames = await _round(server, avatar, seconds, render=True)
    finally:
        AvatarSDK.cleanup()
    ms = np.asarray([x for x in latencies if np.isfinite(x)]) * 1e3
    what = "chunk → keyframe decoded, 1 session (RTC: WebRTC egress → rtc client)"
    if ms.size:
        report.add(what, "p50", float(np.percentile(ms, 50)), unit="ms")
        report.add(what, "p99", float(np.percentile(ms, 99)), unit="ms", budget=RTC_BUDGET_MS, keyframes=int(ms.size))
    else:
        report.add(what, "p99", float("nan"), unit="ms", budget=RTC_BUDGET_MS, keyframes=0)
    offsets = [r.motion_to_audio_offset_ms for r in reports] or [float("nan")]
    report.add("motion-to-audio offset of rendered frames (SDK backend mode over RTC, real time)",
               "max over 1 s windows", float(max(offsets)), unit="ms", budget=1.0, windows=len(reports), frames=frames,
               render_fps=round(float(np.mean([r.render_fps for r in reports])) if reports else 0.0, 1),
               dropped=int(sum(r.dropped_frames for r in reports)))


async def _round(server, avatar, seconds: float, render: bool) -> tuple[list[float], list, int]:
    """One WebRTC-egress round from a server-SDK backend to an RtcClient: (latencies s, FrameRateInfo, frames)."""
    from engine import AvatarView, ConversationState, Offscreen
    from engine.server_sdk import new_avatar_session
    from engine.wire import AnimationDecoder
    from plugins.transport_rtc import RtcClient

    pcm = _speech(seconds)
    n = len(pcm) // (2 * CHUNK)
    sent = np.full(n + 8, np.nan)
    latencies: list[float] = []
    decoder = AnimationDecoder(avatar.expression_count)

    def on_animation(envelope: bytes) -> None:
        anim = decoder.decode(envelope)
        now = time.perf_counter()
        latencies.extend(now - sent[anim.start_frame + i] for i in range(len(anim.keyframes)))

    view = AvatarView(avatar, Offscreen(128, 128), backend="cpu")
    controller = view.controller
    reports = []
    controller.on_frame_rate_info = reports.append
    controller.set_audio_sink("virtual", real_time=True)
    ws = server.base_url.replace("http", "ws", 1)
    session = new_avatar_session(avatar_id="demo", api_key=server.key, app_id=server.app_id, sample_rate=RATE,
                                 console_endpoint_url=f"{server.base_url}/v1/console",
                                 ingress_endpoint_url=f"{ws}/v2/driveningress", egress="webrtc")
    frames = 0
    try:
        async with session:
            client = RtcClient(controller, session.join_url, session.join_token)
            client.on_animation = on_animation
            await client.start()
            renderer = asyncio.create_task(_render(view, ConversationState)) if render else None
            await send_in_real_time(lambda chunk, end: session.send_audio(chunk, end=end), pcm, n, sent)
            await controller.wait_for_conversation_state(ConversationState.idle, timeout=seconds + 15)
            if renderer is not None:
                frames = await renderer
            await client.close()
    finally:
        view.dispose()
    return latencies, reports, frames


async def _render(view, states) -> int:
    """Render at 25 fps until the round has played (the frames the offset is measured on).

    The frame-rate monitor starts once the round plays: in backend mode the sink opens with the
    first audio, and the monitor's first window must open on that sink's clock (one opened
    before, on the monotonic clock the playhead uses without a sink, never closes).
    """
    controller = view.controller
    frames, seen_playing = 0, False
    async for _, _ in view.frames(fps=25):
        playing = controller.conversation_state == states.playing
        if playing and not seen_playing:
            controller.frame_rate_monitor_enabled = True
        seen_playing = seen_playing or playing
        frames += seen_playing
        if seen_playing and not playing:
            return frames
    return frames
