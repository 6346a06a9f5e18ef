// Listening to a live Space: its HLS playlist of 2-s MPEG-TS segments (AAC) played in an
// <audio> element. Where Media Source Extensions take AAC, the segments' AAC frames are
// taken out of the transport stream and appended as they arrive, from a few seconds
// behind the live edge; elsewhere (iOS Safari) the browser plays the playlist itself.

const TS_PACKET = 188;
const AAC_STREAM_TYPE = 0x0f;
const KEEP_BEHIND_SECONDS = 30;

// The ADTS AAC frames of an MPEG transport stream (the payloads of its AAC PES packets).
export function aacOfTransportStream(bytes) {
  let pmtPid = -1;
  let audioPid = -1;
  const parts = [];
  for (let at = 0; at + TS_PACKET <= bytes.length; at += TS_PACKET) {
    if (bytes[at] !== 0x47) continue;
    const start = (bytes[at + 1] & 0x40) !== 0;
    const pid = ((bytes[at + 1] & 0x1f) << 8) | bytes[at + 2];
    const adaptation = (bytes[at + 3] >> 4) & 0x3;
    let offset = at + 4;
    if (adaptation === 0 || adaptation === 2) continue; // reserved, or no payload
    if (adaptation === 3) offset += 1 + bytes[offset];
    const end = at + TS_PACKET;
    if (offset >= end) continue;
    if (pid === 0 && start) {
      // The PAT: the first program that is not the network information (number 0).
      const section = offset + 1 + bytes[offset];
      const sectionEnd = Math.min(end, section + 3 + (((bytes[section + 1] & 0x0f) << 8) | bytes[section + 2]) - 4);
      for (let entry = section + 8; entry + 4 <= sectionEnd; entry += 4) {
        if ((bytes[entry] << 8 | bytes[entry + 1]) !== 0) { pmtPid = ((bytes[entry + 2] & 0x1f) << 8) | bytes[entry + 3]; break; }
      }
    } else if (pid === pmtPid && start && audioPid < 0) {
      const section = offset + 1 + bytes[offset];
      const sectionEnd = section + 3 + (((bytes[section + 1] & 0x0f) << 8) | bytes[section + 2]) - 4;
      let entry = section + 12 + (((bytes[section + 10] & 0x0f) << 8) | bytes[section + 11]);
      while (entry + 5 <= sectionEnd) {
        const elementaryPid = ((bytes[entry + 1] & 0x1f) << 8) | bytes[entry + 2];
        if (bytes[entry] === AAC_STREAM_TYPE) { audioPid = elementaryPid; break; }
        entry += 5 + (((bytes[entry + 3] & 0x0f) << 8) | bytes[entry + 4]);
      }
    } else if (pid === audioPid) {
      if (start) {
        const isPes = bytes[offset] === 0 && bytes[offset + 1] === 0 && bytes[offset + 2] === 1;
        if (!isPes) continue;
        offset += 9 + bytes[offset + 8]; // the PES header
      }
      if (offset < end) parts.push(bytes.subarray(offset, end));
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function parsePlaylist(text, base) {
  const lines = text.split("\n").map((l) => l.trim());
  let sequence = 0;
  let target = 2;
  const segments = [];
  for (const line of lines) {
    if (line.startsWith("#EXT-X-MEDIA-SEQUENCE:")) sequence = Number(line.split(":")[1]);
    else if (line.startsWith("#EXT-X-TARGETDURATION:")) target = Number(line.split(":")[1]);
    else if (line && !line.startsWith("#")) segments.push({ sequence: sequence + segments.length, url: new URL(line, base).href });
  }
  return { segments, target, ended: lines.includes("#EXT-X-ENDLIST") };
}

export class LiveListener {
  constructor(audio, playlistUrl, { onStatus = () => {} } = {}) {
    this.audio = audio;
    // The page's address checks who is listening and redirects to the playlist under a
    // signed grant; the player then follows that address (segments are relative to it).
    this.entryUrl = new URL(playlistUrl, location.href).href;
    this.playlistUrl = this.entryUrl;
    this.onStatus = onStatus;
    this.stopped = true;
    this.next = -1;
    this.generation = 0;
  }

  static usesMediaSource() {
    return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported("audio/aac");
  }

  async start() {
    this.stopped = false;
    this.generation += 1;
    if (!LiveListener.usesMediaSource()) {
      this.audio.src = this.playlistUrl;
      await this.audio.play();
      return;
    }
    const source = new MediaSource();
    this.audio.src = URL.createObjectURL(source);
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    this.source = source;
    this.buffer = source.addSourceBuffer("audio/aac");
    this.buffer.mode = "sequence";
    this.onStatus("Connecting…");
    const playing = this.audio.play();
    await this.follow();
    await playing;
  }

  stop() {
    this.stopped = true;
    this.generation += 1; // a follow() still awaiting a fetch finds it is not current
    clearTimeout(this.timer);
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.audio.load();
    this.next = -1;
  }

  async follow(generation = this.generation) {
    const current = () => !this.stopped && generation === this.generation;
    if (!current()) return;
    let wait = 1000;
    try {
      const reply = await fetch(this.playlistUrl, { cache: "no-store", credentials: "same-origin" });
      if (!current()) return;
      if (reply.status === 403 && this.playlistUrl !== this.entryUrl) {
        // The grant ran out (a long pause): ask the page's address for a new one.
        this.playlistUrl = this.entryUrl;
        this.timer = setTimeout(() => this.follow(generation), 0);
        return;
      }
      if (!reply.ok) { this.onStatus(reply.status === 410 ? "This Space has ended." : "The stream is not available."); return; }
      this.playlistUrl = reply.url;
      const playlist = parsePlaylist(await reply.text(), this.playlistUrl);
      wait = playlist.target * 500;
      // Start three segments behind the live edge: enough to ride out a slow fetch.
      if (this.next < 0) this.next = playlist.segments.length ? playlist.segments[Math.max(0, playlist.segments.length - 3)].sequence : 0;
      for (const segment of playlist.segments) {
        if (segment.sequence < this.next) continue;
        const body = await fetch(segment.url, { credentials: "same-origin" });
        if (!body.ok) break;
        const aac = aacOfTransportStream(new Uint8Array(await body.arrayBuffer()));
        if (!current()) return;
        await this.append(aac);
        this.next = segment.sequence + 1;
      }
      this.onStatus("");
      if (playlist.ended) { if (this.source.readyState === "open") this.source.endOfStream(); return; }
    } catch (error) {
      this.onStatus("Reconnecting…");
    }
    if (current()) this.timer = setTimeout(() => this.follow(generation), wait);
  }

  async append(aac) {
    const buffer = this.buffer;
    const done = () => new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
    const behind = this.audio.currentTime - KEEP_BEHIND_SECONDS;
    if (behind > 0 && buffer.buffered.length && buffer.buffered.start(0) < behind) {
      buffer.remove(0, behind);
      await done();
    }
    buffer.appendBuffer(aac);
    await done();
    // Fallen far behind (a stalled tab): jump to a little before the newest audio.
    const end = buffer.buffered.length ? buffer.buffered.end(buffer.buffered.length - 1) : 0;
    if (end - this.audio.currentTime > 12) this.audio.currentTime = end - 4;
  }
}
