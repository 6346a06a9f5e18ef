// A speaker's microphone: the browser's microphone sent to the Space over WebRTC (Opus),
// and the mix of everyone else coming back on the same connection.
import { sentence } from "./format.js";


export class Microphone {
  constructor(spaceId, headers, { onState = () => {} } = {}) {
    this.api = `/api/v1/spaces/${spaceId}/room/microphone`;
    this.headers = headers;
    this.onState = onState;
    this.connection = null;
    this.stream = null;
    this.returnAudio = new Audio();
    this.returnAudio.autoplay = true;
  }

  get connected() {
    return this.connection !== null && this.connection.connectionState !== "failed" && this.connection.connectionState !== "closed";
  }

  // One connection attempt at a time; whatever fails half-way is released, so that no
  // microphone keeps capturing behind the page's back.
  async connect() {
    if (this.pending) return this.pending;
    this.pending = this.open().catch((error) => { this.close(); throw error; });
    try { await this.pending; } finally { this.pending = null; }
  }

  async open() {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error("This browser cannot use a microphone here (it needs HTTPS).");
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    // STUN and TURN servers, with TURN credentials of this account's own, if any are set up.
    const servers = await fetch(`${this.api.replace(/\/microphone$/, "")}/ice-servers`, { headers: this.headers })
      .then((reply) => (reply.ok ? reply.json() : { ice_servers: [] }))
      .catch(() => ({ ice_servers: [] }));
    const connection = new RTCPeerConnection({ iceServers: servers.ice_servers });
    this.connection = connection;
    for (const track of this.stream.getAudioTracks()) connection.addTrack(track, this.stream);
    preferRed(connection);
    connection.addEventListener("track", (event) => {
      this.returnAudio.srcObject = event.streams[0] || new MediaStream([event.track]);
      this.returnAudio.play().catch(() => {});
    });
    connection.addEventListener("connectionstatechange", () => this.onState(connection.connectionState));
    await connection.setLocalDescription(await connection.createOffer());
    // The server takes one complete offer: wait for every local candidate first.
    await new Promise((resolve) => {
      if (connection.iceGatheringState === "complete") return resolve();
      const check = () => connection.iceGatheringState === "complete" && resolve();
      connection.addEventListener("icegatheringstatechange", check);
      setTimeout(resolve, 3000);
    });
    const reply = await fetch(this.api, {
      method: "POST",
      headers: this.headers,
      body: JSON.stringify({ type: "offer", sdp: connection.localDescription.sdp }),
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(typeof body.detail === "string" ? sentence(body.detail) : "The microphone could not connect.");
    await connection.setRemoteDescription(body);
  }

  // Muting stops sending at the source too, so nothing leaves the browser while muted.
  setEnabled(on) {
    for (const track of this.stream?.getAudioTracks() || []) track.enabled = on;
  }

  close() {
    this.connection?.close();
    this.connection = null;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.returnAudio.srcObject = null;
  }

  async disconnect() {
    this.close();
    await fetch(this.api, { method: "DELETE", headers: this.headers });
  }
}


// Ask for Opus in RED (RFC 2198) where the browser has it: each packet then also carries
// the one before it, so a packet lost on a phone's network is heard whole from the next
// instead of patched over. The room answers in the same order, so both directions use
// it; a browser without RED sends plain Opus as before.
function preferRed(connection) {
  const codecs = globalThis.RTCRtpReceiver?.getCapabilities?.("audio")?.codecs || [];
  const named = (name) => codecs.filter((codec) => codec.mimeType.toLowerCase() === `audio/${name}`);
  const red = named("red");
  const opus = named("opus");
  if (!red.length || !opus.length) return;
  const rest = codecs.filter((codec) => !red.includes(codec) && !opus.includes(codec));
  for (const transceiver of connection.getTransceivers()) {
    if (transceiver.sender.track?.kind === "audio" && transceiver.setCodecPreferences) {
      transceiver.setCodecPreferences([...red, ...opus, ...rest]);
    }
  }
}
