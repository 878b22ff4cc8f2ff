"""Headless Chromium opens the Facecast page, plays a round, and reports what the page itself saw.

Run inside a network namespace of its own (``unshare -n python -m tests.browser.page_check OUT.json``),
where nothing can leave the machine: the namespace has its loopback and one veth pair whose two ends
both stay in it (a private address, no route anywhere). Chromium never offers loopback ICE candidates (RFC 8445
forbids them; its ``--allow-loopback-in-peer-connection`` does nothing without another interface),
so the WebRTC media goes between the server and the browser over that private address, inside
the namespace; every other connection (HTTP, WebSocket, chromedriver) is on 127.0.0.1. It starts the Motion Server (rendered-video egress, the page) on
127.0.0.1, drives Debian's chromium through chromedriver (selenium, no driver download), and writes
a JSON report: decoded frames, received audio, the state sequence, errors, and the PSNR of a
snapshot of the page's video against the engine's own render of the avatar.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE = 128
MEDIA_ADDRESS = "10.233.0.1"  # on the namespace's own veth pair: WebRTC only, no route out
SPEECH = Path(__file__).resolve().parents[2] / "engine" / "demo" / "speech.wav"


def chromium(user_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
                 "--disable-features=WebRtcHideLocalIpsWithMdns", f"--user-data-dir={user_dir}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


def decode_png(data_url: str) -> np.ndarray:
    import av

    raw = base64.b64decode(data_url.split(",", 1)[1])
    with av.open(io.BytesIO(raw), format="png_pipe") as container:
        frame = next(container.decode(video=0))
    return frame.to_ndarray(format="rgb24")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


async def reference_frames(avatar, count: int) -> list[np.ndarray]:
    """The engine's own idle frames of the avatar at the page's size, composited as the egress does."""
    from engine.video import AvatarStream, Compositor

    stream = await AvatarStream.create(avatar, width=SIZE, height=SIZE, sample_rate=48000, backend="cpu",
                                       motion_generator=False)
    compose = Compositor(SIZE, SIZE, (28, 30, 38))
    try:
        return [compose.rgba((await stream.next_frame()).rgba)[..., :3].copy() for _ in range(count)]
    finally:
        stream.close()


def wait(driver, script: str, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"the page did not reach: {what} (within {timeout:g} s); log: "
                       + driver.execute_script("return document.getElementById('log').innerText"))


async def run(report: dict) -> None:
    import attrs

    from engine.avatar.package import load_bundled
    from engine.rtc.ice import IcePolicy
    from engine.server import MotionServer
    from engine.server.provision import provision_if_empty
    from engine.server.video import VideoSettings
    from engine.server.web import PageAccess

    with tempfile.TemporaryDirectory(prefix="facecast-page-") as tmp:
        server = MotionServer(data_dir=Path(tmp) / "data",
                              video=VideoSettings(max_sessions=1, width=SIZE, height=SIZE, backend="cpu"))
        setup = await provision_if_empty(server.store)
        server.page = PageAccess(setup.app_id)
        server.rtc.settings = attrs.evolve(server.rtc.settings, ice=IcePolicy((MEDIA_ADDRESS,)))
        await server.video.warm_up()  # as `facecast serve` does: no kernel compiles inside the session
        await server.start("127.0.0.1", 0)
        driver = await asyncio.to_thread(chromium, str(Path(tmp) / "chromium"))
        try:
            url = server.page.url(server.base_url) + f"&size={SIZE}"
            await asyncio.to_thread(driver.get, url)
            call = lambda *a: asyncio.to_thread(wait, driver, *a)  # noqa: E731 (the server runs on this loop)
            await call("return document.getElementById('avatar').options.length", 30, "the avatar list")
            await asyncio.to_thread(driver.execute_script, "facecast.connect()")
            await call("return document.getElementById('connection').textContent === 'connected'", 120,
                       "connection: connected")
            await call("return facecast.stats.framesDecoded >= 10", 120, "10 decoded video frames")
            snapshot = decode_png(await asyncio.to_thread(driver.execute_script, "return facecast.snapshot()"))
            file_input = await asyncio.to_thread(driver.find_element, "id", "file")
            await asyncio.to_thread(file_input.send_keys, str(SPEECH))
            await call("return facecast.stats.states.includes('conversation:playing')", 60, "conversation: playing")
            await call("const s = facecast.stats.states; return s[s.length - 1] === 'conversation:idle'", 120,
                       "conversation: idle after the speech")
            stats = await asyncio.to_thread(driver.execute_script, "return facecast.mediaStats()")
            report.update(stats=stats, snapshot_shape=list(snapshot.shape))
        finally:
            await asyncio.to_thread(driver.quit)
            await server.stop()
        references = await reference_frames(load_bundled("demo"), 100)
        report["snapshot_psnr_db"] = max(psnr(snapshot, ref) for ref in references)


def isolate_network() -> None:
    """Inside the fresh namespace: loopback up, and a veth pair for the media whose two ends both stay here.

    Chromium gathers no ICE candidate until some interface has a default route, so the route points
    at the pair too: whatever the browser sends elsewhere reaches the other end and is dropped.
    """
    for command in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "fcmedia0", "type", "veth", "peer", "name", "fcmedia1"],
                    ["ip", "addr", "add", f"{MEDIA_ADDRESS}/24", "dev", "fcmedia0"],
                    ["ip", "link", "set", "fcmedia0", "up"], ["ip", "link", "set", "fcmedia1", "up"],
                    ["ip", "route", "add", "default", "dev", "fcmedia0"]):
        subprocess.run(command, check=True)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    names = {line.split(":")[1].strip().split("@")[0] for line in links.splitlines()}
    if names != {"lo", "fcmedia0", "fcmedia1"}:
        raise RuntimeError(f"this is not a private network namespace (links: {sorted(names)}); refusing to run")


def main() -> int:
    isolate_network()
    report: dict = {}
    try:
        asyncio.run(run(report))
        report["ok"] = True
    except Exception as exc:  # reported, not raised: the test reads the file
        report.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    Path(sys.argv[1]).write_text(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
