"""The demo's video writer (encoding on its own thread) and the offline progress line."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from engine import AvatarError
from engine.demo.progress import Progress
from engine.demo.video import BACKGROUND, VideoWriter


def test_frames_and_audio_arrive_in_order_and_complete(tmp_path):
    path = tmp_path / "v.mp4"
    writer = VideoWriter(path, 32, 32, 25, 16000)
    for i in range(30):
        rgba = np.zeros((32, 32, 4), np.uint8)
        rgba[..., :3] = BACKGROUND.astype(np.uint8)
        rgba[:, : i + 1, 0] = 250  # a bar that grows frame by frame: order is visible in the pixels
        writer.add_audio(np.full(640, 0.1, np.float32))
        writer.add_frame(rgba)
    writer.close()
    writer.close()  # idempotent
    assert writer.frames == 30
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]
    with av.open(str(path)) as c:
        samples = sum(f.samples for f in c.decode(c.streams.audio[0]))
    assert len(frames) == 30 and 30 * 640 <= samples <= 30 * 640 + 2048  # AAC pads its last 1024-sample frame
    widths = [int((f[16, :, 0] > 200).sum()) for f in frames]
    assert widths == sorted(widths) and widths[0] <= 3 and widths[-1] >= 28


def test_bad_frames_and_writes_after_close_are_clear_errors(tmp_path):
    writer = VideoWriter(tmp_path / "v.mp4", 32, 32, 25, 16000)
    with pytest.raises(AvatarError, match="uint8 RGBA of 32×32"):
        writer.add_frame(np.zeros((16, 16, 4), np.uint8))
    writer.close()
    with pytest.raises(AvatarError, match="closed"):
        writer.add_frame(np.zeros((32, 32, 4), np.uint8))


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_shows_frames_fps_and_eta():
    out = _Tty()
    bar = Progress(100, stream=out, rate_hz=1e9)
    for done in range(1, 51):
        bar.update(done)
    text = out.getvalue()
    assert text.startswith("\r[") and "50/100 frames" in text and "fps" in text and "ETA" in text
    assert "\n" not in text  # redrawn in place on a terminal
    bar.close()
    assert out.getvalue().endswith("\n")
    log = io.StringIO()
    quiet = Progress(10, stream=log, log_every_s=3600)
    for done in range(1, 11):
        quiet.update(done)
    quiet.close()
    assert log.getvalue().count("\n") == 2 and "\r" not in log.getvalue()  # a log gets plain lines, rarely


def test_frame_count_matches_the_offline_loop():
    from engine.demo.offline import frame_count

    for samples, rate, fps in [(82720, 16000, 25), (32000, 16000, 30), (44100, 44100, 24), (1, 48000, 60)]:
        total = samples + int(0.4 * rate)
        j = 0  # the loop of render_offline: frame j shows stream position round(j·rate/fps); stop at the end
        while round(j * rate / fps) < total:
            j += 1
        assert frame_count(samples, rate, fps) == j + 1
