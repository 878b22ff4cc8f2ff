"""The ``sounddevice`` audio sink: a PortAudio output stream fed from the engine's lock-free ring.

The stream runs a callback every ``blocksize`` frames (10 ms by default). The callback copies
from the preallocated ring into PortAudio's buffer, applies the volume, plays silence when the
ring is dry (counted as an underrun while more audio is expected) and stamps the clock with
``outputBufferDacTime`` — it never blocks, takes no lock and allocates no arrays. If the device
cannot open the stream's rate, the stream opens at the device's default rate and the callback
resamples linearly into it, with preallocated scratch arrays.

Options: ``device`` (PortAudio index or name), ``blocksize`` (frames per callback at the device
rate), ``latency`` (PortAudio's suggested latency: seconds or 'low'/'high'), ``device_rate``
(force the device rate; resample if it differs), ``capacity_s`` (ring size in seconds).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

import engine
from engine.kit import DEFAULT_CAPACITY_S, RingSink

log = logging.getLogger("facecast.sink.sounddevice")

REANCHOR_S = 0.05  # the host's DAC report may wander this far from the frame count before we follow it


class SoundDeviceSink(RingSink):
    """PCM16 mono at ``sample_rate`` to a PortAudio output device."""

    real_time = True

    def __init__(self, sample_rate: int, *, device=None, blocksize: int | None = None, latency=None,
                 device_rate: int | None = None, capacity_s: float = DEFAULT_CAPACITY_S) -> None:
        super().__init__(sample_rate, capacity_s)
        self.device = device
        self.latency = latency
        self._requested_rate = device_rate
        self._blocksize = blocksize
        self.device_rate: int | None = None
        self._stream = None
        self._device_underflows = 0  # callback-owned: PortAudio reported an output underflow
        self._latency_floor = 0.0
        self._frames_out = 0  # callback-owned: device frames handed to PortAudio
        self._anchor = [0.0, -1]  # callback-owned: (DAC time, frame count) the clock counts from

    # -- opening ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._stream is not None:
            return
        import sounddevice as sd

        rate = self._requested_rate or self.sample_rate
        try:
            stream = self._open_stream(sd, rate)
        except sd.PortAudioError as first:
            if self._requested_rate is not None:
                raise self._failure(rate, first) from None
            try:  # the device cannot do our rate: open at its own and resample in the callback
                rate = int(sd.query_devices(self.device, "output")["default_samplerate"])
                stream = self._open_stream(sd, rate)
            except (sd.PortAudioError, ValueError) as second:
                raise self._failure(rate, second) from None
            log.info("device cannot play %d Hz; resampling to %d Hz", self.sample_rate, rate)
        except ValueError as exc:  # no such device
            raise self._failure(rate, exc) from None
        self._stream = stream
        self._latency_floor = float(stream.latency)
        stream.start()

    def _open_stream(self, sd, rate: int):
        block = self._blocksize or max(1, rate // 100)
        self._prepare_resampler(rate, block)
        return sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=self.device,
                               blocksize=block, latency=self.latency, callback=self._callback)

    def _failure(self, rate: int, exc: Exception) -> engine.AvatarError:
        return engine.AvatarError(
            engine.ErrorCode.playbackInitFailed,
            f"cannot open a PortAudio output stream at {rate} Hz on device {self.device!r}: {exc}. "
            "Check the output device (python -m sounddevice lists them), or use the 'virtual' sink")

    def _prepare_resampler(self, rate: int, block: int) -> None:
        self.device_rate = rate
        self._step = self.sample_rate / rate  # stream samples per device frame
        self._resampling = rate != self.sample_rate
        if not self._resampling:
            return
        need = int(math.ceil(block * self._step)) + 2
        self._base = np.arange(block, dtype=np.float64) * self._step
        self._x = np.zeros(block, np.float64)
        self._fl = np.zeros(block, np.float64)
        self._i = np.zeros(block, np.intp)
        self._a = np.zeros(block, np.float32)
        self._b = np.zeros(block, np.float32)
        self._f = np.zeros(block, np.float32)
        self._src = np.zeros(need + 1, np.float32)  # [previous sample, new samples..., guard]
        self._phase = 0.0

    # -- the device callback ------------------------------------------------------------------

    def _dac_time(self, frames: int, time_info, status) -> float:
        """When this buffer reaches the speaker: the device's frame count since an anchor.

        PortAudio's per-callback DAC time jitters with scheduling and, through ALSA's pulse
        plugin, drifts by tens of ms while the server settles its buffering; the device itself
        consumes frames at its nominal rate. So the DAC time is taken once as an anchor (never
        earlier than the stream's output latency) and advanced by frame counts; a new anchor is
        taken after an underflow or when the host's report moves more than ``REANCHOR_S``.
        """
        reported = time_info.outputBufferDacTime
        floor = time_info.currentTime + self._latency_floor
        if reported < floor:
            reported = floor
        counted = self._frames_out
        self._frames_out = counted + frames
        anchor = self._anchor
        predicted = anchor[0] + (counted - anchor[1]) / self.device_rate
        if anchor[1] < 0 or status.output_underflow or abs(reported - predicted) > REANCHOR_S:
            anchor[0] = reported
            anchor[1] = counted
            return reported
        return predicted

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status.output_underflow:
            self._device_underflows += 1
        dac = self._dac_time(frames, time_info, status)
        out = outdata[:, 0]
        if not self._resampling:
            self._render(out, dac)
            return
        if frames != self._base.shape[0]:  # PortAudio promised fixed blocks; never allocate here
            out[:] = 0.0
            self._device_underflows += 1
            return
        # Output frame k sits at x = phase + k·step, where x = 0 is the previous input sample.
        src = self._src
        m = int(math.ceil(self._phase + (frames - 1) * self._step))
        self._render(src[1:1 + m], dac)
        src[m + 1] = src[m]  # guard for x landing exactly on the last sample
        np.add(self._base, self._phase, out=self._x)
        np.floor(self._x, out=self._fl)
        np.copyto(self._i, self._fl, casting="unsafe")
        np.subtract(self._x, self._fl, out=self._f, casting="unsafe")
        np.take(src, self._i, out=self._a)
        np.add(self._i, 1, out=self._i)
        np.take(src, self._i, out=self._b)
        np.subtract(self._b, self._a, out=self._b)
        np.multiply(self._b, self._f, out=self._b)
        np.add(self._a, self._b, out=out)
        self._phase = self._phase + frames * self._step - m
        src[0] = src[m]

    # -- clock and teardown -------------------------------------------------------------------

    def device_time(self) -> float:
        stream = self._stream
        # PortAudio's time is wall-clock based on Linux; the clock only ever uses differences of it.
        return stream.time if stream is not None and not stream.closed else time.time()

    @property
    def underruns(self) -> int:
        return self._underruns + self._device_underflows

    @property
    def output_latency(self) -> float | None:
        return None if self._stream is None else float(self._stream.latency)

    def _close_device(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()


def make_sounddevice_sink(sample_rate: int, **options) -> SoundDeviceSink:
    return SoundDeviceSink(sample_rate, **options)


@engine.hookimpl
def register_audio_sinks(register):
    register("sounddevice", make_sounddevice_sink)
