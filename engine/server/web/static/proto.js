// The few Motion Server messages this page sends and reads, protobuf-encoded by hand (docs/protocol.md):
// no build step, no library. Field numbers are the protocol's; this project's extensions are >= 100.
"use strict";
const FacecastProto = (() => {
  const enc = new TextEncoder(), dec = new TextDecoder();
  const T = { CONFIGURE: 1, CONFIRM: 2, AUDIO: 3, ERROR: 4, ANIMATION: 5, INTERRUPT: 7 };

  function varint(n, out) { while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); } out.push(n); }
  function tag(field, wire, out) { varint(field * 8 + wire, out); }
  function uint(field, n, out) { if (n) { tag(field, 0, out); varint(n, out); } }
  function bytes(field, data, out) {
    const b = typeof data === "string" ? enc.encode(data) : data;
    tag(field, 2, out); varint(b.length, out); for (const x of b) out.push(x);
  }
  function envelope(type, field, body) { const out = []; uint(1, type, out); bytes(field, body, out); return new Uint8Array(out); }

  function configure(sampleRate, egressType, params) {
    const cfg = [];
    uint(1, sampleRate, cfg);
    uint(5, egressType, cfg);
    for (const [k, v] of Object.entries(params || {})) { const e = []; bytes(1, k, e); bytes(2, String(v), e); bytes(8, e, cfg); }
    return envelope(T.CONFIGURE, 2, cfg);
  }
  function audio(reqId, pcm16, end) {
    const body = []; bytes(1, reqId, body); uint(2, end ? 1 : 0, body);
    bytes(3, new Uint8Array(pcm16.buffer, pcm16.byteOffset, pcm16.byteLength), body);
    return envelope(T.AUDIO, 4, body);
  }
  function interrupt(reqId) { const body = []; bytes(1, reqId, body); return envelope(T.INTERRUPT, 8, body); }

  function* fields(buf) {
    let i = 0;
    const readVarint = () => { let n = 0, mul = 1, b; do { b = buf[i++]; n += (b & 127) * mul; mul *= 128; } while (b & 128); return n; };
    while (i < buf.length) {
      const key = readVarint(), field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) yield [field, readVarint()];
      else if (wire === 2) { const n = readVarint(); yield [field, buf.subarray(i, i + n)]; i += n; }
      else if (wire === 5) { yield [field, buf.subarray(i, i + 4)]; i += 4; }
      else if (wire === 1) { yield [field, buf.subarray(i, i + 8)]; i += 8; }
      else throw new Error("unsupported wire type " + wire);
    }
  }
  function parse(arrayBuffer) {
    const msg = { type: 0 };
    for (const [f, v] of fields(new Uint8Array(arrayBuffer))) {
      if (f === 1) msg.type = v;
      else if (f === 3) { msg.confirm = {}; for (const [g, w] of fields(v)) {
        if (g === 1) msg.confirm.connectionId = dec.decode(w);
        if (g === 100) msg.confirm.joinUrl = dec.decode(w);
        if (g === 101) msg.confirm.joinToken = dec.decode(w); } }
      else if (f === 5) { msg.error = { code: 0, message: "" }; for (const [g, w] of fields(v)) {
        if (g === 3) msg.error.code = w;
        if (g === 4) msg.error.message = dec.decode(w); } }
    }
    return msg;
  }
  return { T, configure, audio, interrupt, parse, EGRESS_TYPE_WEBRTC_VIDEO: 101 };
})();
