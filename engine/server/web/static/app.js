// The Facecast page: a Motion Server session with the rendered-video egress, watched over WebRTC.
// 1. the page key (in the URL fragment, printed by `facecast serve`) buys a session token;
// 2. the ingress WebSocket is configured with EGRESS_TYPE_WEBRTC_VIDEO; the confirm carries a join URL + token;
// 3. a receive-only RTCPeerConnection joins (WHEP); speech decoded in the page goes up the WebSocket.
"use strict";
const RATE = 16000;
const $ = (id) => document.getElementById(id);
const fragment = new URLSearchParams(location.hash.slice(1));
const pageKey = fragment.get("key") || "";
const SIZE = Number(fragment.get("size")) || 512;  // of the rendered video (the server may refuse others)
let page = null, ws = null, pc = null, round = 0, reqId = "";
const stats = { framesDecoded: 0, audioPackets: 0, audioEnergy: 0, states: [], errors: [] };

function log(text, isError) {
  const line = document.createElement("div");
  line.textContent = new Date().toISOString().slice(11, 19) + " " + text;
  if (isError) { line.className = "error"; stats.errors.push(text); }
  $("log").prepend(line);
}
function setConnection(state) {
  if ($("connection").textContent === state) return;
  $("connection").textContent = state; stats.states.push("connection:" + state);
  const open = state === "connected";
  $("say").disabled = $("interrupt").disabled = !open;
  $("disconnect").disabled = state === "disconnected";
  $("connect").disabled = state === "connecting" || open;
}
function setConversation(state) {
  $("conversation").textContent = state; stats.states.push("conversation:" + state);
}

async function api(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "X-Page-Key": pageKey, "Content-Type": "application/json" },
                                        body: JSON.stringify(body || {}) });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).errors[0].message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

async function init() {
  if (!pageKey) { log("this page needs the key `facecast serve` printed: open the URL it shows", true); return; }
  try {
    page = await (await api("/v1/page/session")).json();
    for (const id of page.avatars) $("avatar").add(new Option(id, id));
    $("connect").disabled = false;
    log("app " + page.appId + ": " + page.avatars.length + " avatar(s)");
  } catch (e) { log("cannot start: " + e.message, true); }
}

function waitForGathering(peer) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => peer.addEventListener("icegatheringstatechange",
    () => peer.iceGatheringState === "complete" && resolve()));
}

async function connect() {
  setConnection("connecting");
  try {
    page = await (await api("/v1/page/session")).json();  // a fresh token each time
    const url = page.ingress + "/websocket?" + new URLSearchParams({ id: $("avatar").value, appId: page.appId,
                                                                     sessionKey: page.sessionToken });
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const confirm = await new Promise((resolve, reject) => {
      ws.onopen = () => ws.send(FacecastProto.configure(RATE, FacecastProto.EGRESS_TYPE_WEBRTC_VIDEO,
                                                        { video_width: SIZE, video_height: SIZE }));
      ws.onmessage = (ev) => {
        const msg = FacecastProto.parse(ev.data);
        if (msg.type === FacecastProto.T.CONFIRM) resolve(msg.confirm);
        else if (msg.type === FacecastProto.T.ERROR) reject(new Error("server error " + msg.error.code + ": " + msg.error.message));
      };
      ws.onclose = (ev) => reject(new Error("the server closed the session (" + ev.code + " " + ev.reason + ")"));
    });
    ws.onmessage = (ev) => {
      const msg = FacecastProto.parse(ev.data);
      if (msg.type === FacecastProto.T.ERROR) log("server error " + msg.error.code + ": " + msg.error.message, true);
    };
    ws.onclose = (ev) => { log("session closed (" + ev.code + ")"); teardown(ev.code === 1000 ? "disconnected" : "failed"); };
    await join(confirm);
  } catch (e) {
    log(e.message, true);
    teardown("failed");
  }
}

async function join(confirm) {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  const channel = pc.createDataChannel("facecast-state", { negotiated: true, id: 2 });
  channel.onmessage = (ev) => setConversation(JSON.parse(ev.data).conversationState);
  const stream = new MediaStream();
  pc.ontrack = (ev) => { stream.addTrack(ev.track); $("video").srcObject = stream; };
  pc.onconnectionstatechange = () => {
    const s = pc.connectionState;
    if (s === "connected") setConnection("connected");
    else if (s === "failed" || s === "disconnected") setConnection(s === "failed" ? "failed" : "disconnected");
  };
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc);
  const response = await fetch(confirm.joinUrl, { method: "POST", body: pc.localDescription.sdp,
    headers: { "Authorization": "Bearer " + confirm.joinToken, "Content-Type": "application/sdp" } });
  if (response.status !== 201) throw new Error("join refused: " + response.status + " " + await response.text());
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  countFrames();
}

function countFrames() {
  const video = $("video");
  if (!video.requestVideoFrameCallback) return;
  const tick = () => { stats.framesDecoded += 1; video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
}

function teardown(state) {
  if (pc) { pc.close(); pc = null; }
  if (ws && ws.readyState <= 1) ws.close(1000);
  ws = null;
  setConnection(state);
  setConversation("idle");
}

async function toPcm16(arrayBuffer) {
  const decoded = await new AudioContext().decodeAudioData(arrayBuffer);
  const offline = new OfflineAudioContext(1, Math.ceil(decoded.duration * RATE), RATE);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const mono = (await offline.startRendering()).getChannelData(0);
  const pcm = new Int16Array(mono.length);
  for (let i = 0; i < mono.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(mono[i] * 32767)));
  return pcm;
}

function speak(pcm) {
  if (!ws || ws.readyState !== 1) { log("connect first", true); return; }
  reqId = "page-" + (++round);
  const chunk = RATE / 5;  // 200 ms per message
  for (let at = 0; at < pcm.length; at += chunk) {
    ws.send(FacecastProto.audio(reqId, pcm.subarray(at, at + chunk), at + chunk >= pcm.length));
  }
  log("sent " + (pcm.length / RATE).toFixed(1) + " s of speech as " + reqId);
}

async function sayText() {
  try { speak(await toPcm16(await (await api("/v1/page/speech", { text: $("text").value })).arrayBuffer())); }
  catch (e) { log("speech: " + e.message, true); }
}
async function playFile() {
  const file = $("file").files[0];
  if (!file) return;
  try { speak(await toPcm16(await file.arrayBuffer())); }
  catch (e) { log("cannot decode " + file.name + ": " + e.message, true); }
  $("file").value = "";
}

// What an automated check reads (and a curious user can call from the console).
window.facecast = {
  connect, speak, stats,
  async mediaStats() {
    if (!pc) return stats;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") { stats.audioPackets = r.packetsReceived; stats.audioEnergy = r.totalAudioEnergy || 0; }
      if (r.type === "inbound-rtp" && r.kind === "video") stats.videoFramesDecoded = r.framesDecoded;
    });
    return stats;
  },
  snapshot() {
    const video = $("video"), canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return canvas.toDataURL("image/png");
  },
};

$("connect").onclick = connect;
$("disconnect").onclick = () => teardown("disconnected");
$("say").onclick = sayText;
$("file").onchange = playFile;
$("interrupt").onclick = () => { if (ws && reqId) ws.send(FacecastProto.interrupt(reqId)); };
$("connect").disabled = true;
init();
