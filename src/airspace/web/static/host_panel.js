import { drawWaveform } from "./waveform.js";
import { clock, sentence } from "./format.js";

// The host's recording panel: move the start time (with a preview), delete.
const panel = document.querySelector(".host-panel");
const spaceId = panel.dataset.spaceId;
const api = `/api/v1/spaces/${spaceId}/recording`;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const slider = panel.querySelector(".offset");
const shown = panel.querySelector(".offset-value");
const status = panel.querySelector(".host-status");
const saved = Number(panel.dataset.offset);
let preview = null;

// The whole recording's waveform under the slider; what listeners skip is dimmed.
const canvas = panel.querySelector(".offset-waveform");
let peaks = [];
function drawStart() {
  const start = Number(slider.value) / (Number(slider.max) || 1);
  drawWaveform(canvas, peaks, start, { before: "#333845", after: "#7c5cff", marker: "#e8eaf0" });
}
fetch(`${api}/waveform?whole=true`).then((r) => (r.ok ? r.json() : { peaks: [] })).then((w) => { peaks = w.peaks; drawStart(); });
addEventListener("resize", drawStart);
const show = () => { shown.textContent = clock(Number(slider.value)); drawStart(); };
slider.addEventListener("input", show);
show();

async function send(method, body) {
  const reply = await fetch(api, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await reply.text();
  return { ok: reply.ok, body: text ? JSON.parse(text) : {} };
}

// The preview plays the whole recording from the slider's position: the full live
// playlist where the browser plays HLS itself, else the replay file (which starts at
// the saved start time, so earlier points play from there).
const wholeRecording = document.createElement("audio").canPlayType("application/vnd.apple.mpegurl")
  ? `/i/spaces/${spaceId}/live.m3u8`
  : null;
panel.querySelector(".preview").addEventListener("click", () => {
  preview?.pause();
  preview = new Audio(wholeRecording || `/i/spaces/${spaceId}/recording.m4a`);
  preview.addEventListener("loadedmetadata", () => {
    const at = Number(slider.value);
    preview.currentTime = wholeRecording ? at : Math.max(0, at - saved);
    preview.play();
  }, { once: true });
  status.textContent = `Previewing from ${clock(Number(slider.value))}`;
});

panel.querySelector(".save-offset").addEventListener("click", async () => {
  const { ok, body } = await send("PATCH", { start_offset_seconds: Number(slider.value) });
  status.textContent = ok ? "Start time saved; the replay is being prepared." : sentence(body.detail);
  if (ok) setTimeout(() => location.reload(), 500);
});

panel.querySelector(".delete-recording").addEventListener("click", async () => {
  if (!confirm("Delete this recording for everyone? This cannot be undone by you.")) return;
  const { ok, body } = await send("DELETE");
  status.textContent = ok ? "Recording deleted." : sentence(body.detail);
  if (ok) location.reload();
});

// What listeners may do with the recording.
for (const [selector, field, yes, no] of [
  [".allow-clips", "clips_allowed", "Listeners may make clips.", "Clipping is off for listeners."],
  [".allow-downloads", "downloads_allowed", "Listeners may download the recording.", "Only you can download the recording."],
]) {
  const box = panel.querySelector(selector);
  box.addEventListener("change", async () => {
    const { ok, body } = await send("PATCH", { [field]: box.checked });
    if (!ok) box.checked = !box.checked;
    status.textContent = ok ? (box.checked ? yes : no) : sentence(body.detail);
  });
}

// Chapters, as lines of "m:ss Title" (the replay's clock).
const chaptersText = panel.querySelector(".chapters-text");
const chaptersApi = `${api}/chapters`;
fetch(chaptersApi).then((r) => (r.ok ? r.json() : { chapters: [] })).then((body) => {
  chaptersText.value = body.chapters.map((c) => `${clock(c.start)} ${c.title}`).join("\n");
});

function parseChapters(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const match = line.match(/^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)\s+(.+)$/);
    if (!match) throw new Error(`"${line}" is not "m:ss Title"`);
    const [, hours, minutes, seconds, title] = match;
    return { start: Number(hours || 0) * 3600 + Number(minutes) * 60 + Number(seconds), title };
  });
}

panel.querySelector(".save-chapters").addEventListener("click", async () => {
  let chapters;
  try { chapters = parseChapters(chaptersText.value); } catch (error) { status.textContent = error.message; return; }
  const reply = await fetch(chaptersApi, {
    method: "PUT",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ chapters }),
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) { status.textContent = sentence(body.detail) || "Try again."; return; }
  chaptersText.value = body.chapters.map((c) => `${clock(c.start)} ${c.title}`).join("\n");
  status.textContent = body.edited ? "Chapters saved." : "Back to the automatic chapters.";
});

// Each speaker's own track, for the host to download.
const trackList = panel.querySelector(".track-list");
function fileSize(bytes) {
  return bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
fetch(`${api}/tracks`).then((r) => (r.ok ? r.json() : { tracks: [] })).then(({ tracks }) => {
  trackList.replaceChildren();
  if (!tracks.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No speaker tracks for this recording.";
    trackList.append(none);
  }
  for (const track of tracks) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = track.url;
    link.download = "";
    link.textContent = track.speaker;
    item.append(link, ` · ${clock(track.seconds)} · ${fileSize(track.size_bytes)}`);
    trackList.append(item);
  }
});
