#!/usr/bin/env python3
"""Train the ``phoneme`` motion generator's sound-class classifier on espeak-ng speech made here.

    .venv/bin/python scripts/train_lipsync.py [--out plugins/motion_phoneme/weights.npz] [--passes 2]

Data: every training sentence (``speechset.training_sentences``, plus short phrases of
bilabial-rich words, ``speechset.drill_sentences``) is spoken ``--passes`` times by
espeak-ng with a random training accent + variant, rate 120-260 words/min, pitch and pitch range
20-80, then augmented: random gain (-25..+3 dB), silence before and after, white or low-passed
noise at 10-45 dB SNR (70 % of utterances), at 16 kHz (resampled) or the native 22.05 kHz. Labels are
each keyframe's sound class and reference opening from espeak-ng's phoneme events. Features are
exactly what the generator computes (``generator.FeatureStream``). Deterministic for a seed;
a few minutes on one core. Held-out voices and sentences are scored at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

from plugins.motion_phoneme import speechset  # noqa: E402
from plugins.motion_phoneme.espeak import Utterance, synthesize  # noqa: E402
from plugins.motion_phoneme.features import FEATURES, SUBFRAMES  # noqa: E402
from plugins.motion_phoneme.generator import SILENT_FEATURE, FeatureStream  # noqa: E402
from plugins.motion_phoneme.model import CONTEXT, FUTURE, LOOKAHEAD_WINDOWS, PAST  # noqa: E402
from plugins.motion_phoneme.phonemes import BILABIAL, CLASSES  # noqa: E402

HIDDEN = 96
DRILLS = 400  # short bilabial-rich phrases added to the docstring sentences
OPENING_WEIGHT = 8.0


def resample(utt: Utterance, rate: int) -> Utterance:
    if rate == utt.sample_rate:
        return utt
    g = np.gcd(rate, utt.sample_rate)
    audio = resample_poly(utt.audio.astype(np.float64), rate // g, utt.sample_rate // g)
    starts = (utt.starts * rate // utt.sample_rate).astype(np.int64)
    return Utterance(np.clip(audio, -32768, 32767).astype(np.int16), rate, utt.names, starts)


def augment(utt: Utterance, rng: np.random.Generator) -> Utterance:
    sr = utt.sample_rate
    lead, trail = int(rng.uniform(0.0, 0.4) * sr), int(rng.uniform(0.15, 0.6) * sr)
    x = np.concatenate([np.zeros(lead), utt.audio.astype(np.float64), np.zeros(trail)])
    x *= 10 ** (rng.uniform(-25.0, 3.0) / 20)
    if rng.random() < 0.7:
        noise = rng.standard_normal(x.size)
        if rng.random() < 0.5:  # a duller, room-like noise
            noise = np.convolve(noise, np.ones(8) / 8, mode="same")
        speech_power = np.mean(x[lead:lead + utt.audio.size] ** 2) + 1e-9
        noise *= np.sqrt(speech_power / 10 ** (rng.uniform(10.0, 45.0) / 10) / (np.mean(noise ** 2) + 1e-12))
        x += noise
    audio = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return Utterance(audio, sr, utt.names, utt.starts + lead)


def subframes(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Every sub-frame of a round as the generator sees it (``(4·windows, FEATURES)``, look-ahead included)."""
    stream = FeatureStream(sample_rate)
    w = stream.window
    windows = -(-audio.size // w) + LOOKAHEAD_WINDOWS
    x = np.zeros(windows * w)
    x[:audio.size] = audio / 32768.0
    out = np.empty((windows * SUBFRAMES, FEATURES))
    frames = x.reshape(windows, w)
    for k in range(windows):
        stream.push(frames[k:k + 1])
        slot = (k * SUBFRAMES) % stream.ring.shape[0]
        out[k * SUBFRAMES:(k + 1) * SUBFRAMES] = stream.ring[slot:slot + SUBFRAMES]
    return out


def examples(utt: Utterance):
    keyframes = -(-utt.audio.size * 25 // utt.sample_rate)
    f = subframes(utt.audio, utt.sample_rate)
    padded = np.concatenate([np.full((PAST, FEATURES), SILENT_FEATURE), f])
    idx = np.arange(keyframes)[:, None] * SUBFRAMES + np.arange(CONTEXT)[None, :]
    x = padded[idx].reshape(keyframes, -1).astype(np.float32)
    target, cls = speechset.keyframe_labels(utt, keyframes)
    return x, target.astype(np.float32), cls


def build(sentences, voices_for, rng, rates=(16000, 22050)):
    xs, ts, cs = [], [], []
    for i, text in enumerate(sentences):
        for voice in voices_for(i):
            utt = synthesize(text, voice, rate=int(rng.uniform(120, 260)), pitch=int(rng.uniform(20, 80)),
                             pitch_range=int(rng.uniform(20, 80)))
            utt = augment(resample(utt, rates[int(rng.integers(len(rates)))]), rng)
            x, t, c = examples(utt)
            xs.append(x), ts.append(t), cs.append(c)
    return np.concatenate(xs), np.concatenate(ts), np.concatenate(cs)


def forward(p, x):
    h = np.maximum(x @ p["w1"] + p["b1"], 0.0)
    return h, h @ p["w2"] + p["b2"]


def train(x, target, cls, rng, epochs: int, batch: int = 512, lr: float = 2e-3):
    n_in, n_cls = x.shape[1], len(CLASSES)
    counts = np.bincount(cls, minlength=n_cls).astype(np.float64)
    class_weight = (counts.sum() / np.maximum(counts, 1) / n_cls) ** 0.5
    class_weight[BILABIAL] *= 2.5  # a missed closure is the error viewers notice most
    p = {"w1": rng.normal(0, np.sqrt(2 / n_in), (n_in, HIDDEN)).astype(np.float32),
         "b1": np.zeros(HIDDEN, np.float32),
         "w2": rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, n_cls + 1)).astype(np.float32),
         "b2": np.zeros(n_cls + 1, np.float32)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        rate = lr * (0.5 ** (epoch / max(epochs / 3, 1)))
        loss_sum = 0.0
        for s in range(0, len(order), batch):
            b = order[s:s + batch]
            xb, tb, cb = x[b], target[b], cls[b]
            h, out = forward(p, xb)
            logits = out[:, :n_cls]
            logits = logits - logits.max(axis=1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(axis=1, keepdims=True)
            wb = class_weight[cb].astype(np.float32)
            grad = np.zeros_like(out)
            grad[:, :n_cls] = prob * wb[:, None]
            grad[np.arange(len(b)), cb] -= wb
            err = out[:, n_cls] - tb
            grad[:, n_cls] = OPENING_WEIGHT * 2 * err
            grad /= len(b)
            loss_sum += float(-(wb * np.log(prob[np.arange(len(b)), cb] + 1e-9)).sum() + OPENING_WEIGHT * (err ** 2).sum())
            grads = {"w2": h.T @ grad, "b2": grad.sum(axis=0)}
            dh = (grad @ p["w2"].T) * (h > 0)
            grads["w1"] = xb.T @ dh
            grads["b1"] = dh.sum(axis=0)
            step += 1
            for k in p:
                g = grads[k] + (1e-4 * p[k] if k[0] == "w" else 0.0)
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                p[k] -= (rate * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step)) + 1e-8)).astype(np.float32)
        print(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / len(x):.3f}", flush=True)
    return p


def score(p, x, target, cls, label):
    _, out = forward(p, x)
    pred = out[:, :len(CLASSES)].argmax(axis=1)
    r = np.corrcoef(out[:, len(CLASSES)], target)[0, 1]
    per_class = ", ".join(f"{name} {np.mean(pred[cls == c] == c):.2f}" for c, name in enumerate(CLASSES) if (cls == c).any())
    print(f"{label}: accuracy {np.mean(pred == cls):.3f}, opening r {r:.3f}; recall: {per_class}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "plugins/motion_phoneme/weights.npz"))
    parser.add_argument("--passes", type=int, default=2, help="voices per training sentence")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    sentences = speechset.training_sentences() + speechset.drill_sentences(rng, DRILLS)
    voices = [f"{a}+{v}" if v else a for a in speechset.TRAIN_ACCENTS for v in speechset.TRAIN_VARIANTS]
    x, target, cls = build(sentences, lambda i: [voices[j] for j in rng.integers(len(voices), size=args.passes)], rng)
    print(f"train: {len(sentences)} sentences x {args.passes} voices -> {len(x)} keyframes "
          f"({time.perf_counter() - t0:.0f} s); class shares "
          + ", ".join(f"{n} {s:.2f}" for n, s in zip(CLASSES, np.bincount(cls, minlength=len(CLASSES)) / len(cls))))
    hx, ht, hc = build(speechset.HELD_OUT_SENTENCES, lambda i: speechset.HELD_OUT_VOICES, rng)
    mean = x.mean(axis=0)
    scale = 1.0 / np.maximum(x.std(axis=0), 1e-3)
    p = train((x - mean) * scale, target, cls, rng, args.epochs)
    score(p, (x - mean) * scale, target, cls, "train")
    score(p, (hx - mean) * scale, ht, hc, "held out (voices " + ", ".join(speechset.HELD_OUT_VOICES) + ")")
    np.savez_compressed(args.out, mean=mean.astype(np.float32), scale=scale.astype(np.float32), **p)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1024:.0f} KiB) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
