import { clock, sentence } from "./format.js";
import { offerMediaSession } from "./media_session.js";
import { remember, remembered, resumeAt } from "./remembered.js";
import { drawWaveform } from "./waveform.js";

// The replay player. Everything runs on the replay's clock: 0 is the host's start time,
// as in the M4A file, the captions, the waveform and the transcript.
const root = document.querySelector(".player");
const spaceId = root.dataset.spaceId;
const api = `/api/v1/spaces/${spaceId}/recording`;
const audio = root.querySelector("audio");
const status = root.querySelector(".player-status");
const position = root.querySelector(".position");
const canvas = root.querySelector(".waveform");
const playButton = root.querySelector(".play");
const speed = root.querySelector(".speed");
const captionLine = root.querySelector(".caption");
const captionsToggle = root.querySelector(".captions-toggle");
const transcriptList = root.querySelector(".transcript");
const captionsStatus = root.querySelector(".captions-status");
let peaks = [];
let cues = [];
let captionsOn = true;
let reported = false;
// Signed-in listeners write with their session cookie, which needs the page's CSRF token.
const writeHeaders = {
  "Content-Type": "application/json",
  "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]')?.content || "",
};

function drawPlayed() {
  const played = audio.duration ? audio.currentTime / audio.duration : 0;
  drawWaveform(canvas, peaks, played, { before: "#7c5cff", after: "#4a5163" });
}

function showTime() {
  position.value = audio.currentTime;
  root.querySelector(".elapsed").textContent = clock(audio.currentTime);
  root.querySelector(".remaining").textContent = "-" + clock((audio.duration || 0) - audio.currentTime);
  const cue = cues.find((c) => c.startTime <= audio.currentTime && audio.currentTime < c.endTime);
  captionLine.textContent = captionsOn && cue ? `${cue.speaker}: ${cue.body}` : "";
  captionLine.hidden = !captionsOn;
  if (transcriptList) {
    transcriptList.querySelectorAll("li").forEach((li) => li.classList.toggle("current", li.dataset.start <= audio.currentTime && audio.currentTime < li.dataset.end));
  }
  drawPlayed();
  if (!reported && audio.currentTime > 10) {
    reported = true;
    fetch(`${api}/plays`, { method: "POST", headers: writeHeaders, body: JSON.stringify({ position_seconds: audio.currentTime }) });
  }
}

const seek = (to) => { audio.currentTime = Math.min(Math.max(0, to), audio.duration || to); showTime(); };
const toggle = () => (audio.paused ? audio.play() : audio.pause());
const setCaptions = (on) => { captionsOn = on; captionsToggle.setAttribute("aria-pressed", String(on)); showTime(); };

playButton.addEventListener("click", toggle);
root.querySelector(".back").addEventListener("click", () => seek(audio.currentTime - 15));
root.querySelector(".forward").addEventListener("click", () => seek(audio.currentTime + 15));
speed.addEventListener("change", () => {
  audio.playbackRate = Number(speed.value);
  remember(spaceId, { speed: speed.value });
});
// The position is kept every few seconds while playing, and at each pause or seek.
let keptAt = 0;
const keepPosition = () => { keptAt = Date.now(); remember(spaceId, { position: audio.currentTime }); };
audio.addEventListener("timeupdate", () => { if (Date.now() - keptAt > 5000) keepPosition(); });
for (const event of ["pause", "seeked"]) audio.addEventListener(event, keepPosition);
audio.addEventListener("ended", () => remember(spaceId, { position: 0 }));
offerMediaSession(audio, { title: root.dataset.title, artist: root.dataset.hostName, artwork: root.dataset.artwork, seek, player: root });
position.addEventListener("input", () => seek(Number(position.value)));
captionsToggle.addEventListener("click", () => setCaptions(!captionsOn));
audio.addEventListener("play", () => { playButton.textContent = "Pause"; playButton.setAttribute("aria-label", "Pause"); });
audio.addEventListener("pause", () => { playButton.textContent = "Play"; playButton.setAttribute("aria-label", "Play"); });
audio.addEventListener("timeupdate", showTime);
// The file is served under a signed grant that runs out after an hour: after an error
// (a long pause, then a seek), ask the page's address again and go on from there.
let recoveredAt = 0;
audio.addEventListener("error", () => {
  if (!audio.currentSrc || Date.now() - recoveredAt < 60_000) return;
  recoveredAt = Date.now();
  const at = audio.currentTime;
  audio.src = `/i/spaces/${spaceId}/recording.m4a`;
  audio.addEventListener("loadedmetadata", () => { audio.currentTime = at; }, { once: true });
});
audio.addEventListener("loadedmetadata", () => {
  position.max = audio.duration;
  const start = Number(new URLSearchParams(location.search).get("t"));
  const resume = resumeAt(spaceId, audio.duration);
  status.textContent = "";
  if (start > 0) audio.currentTime = Math.min(start, audio.duration);
  else if (resume !== null) {
    audio.currentTime = resume;
    status.textContent = `Going on from ${clock(resume)}, where you left off.`;
  }
  const { speed: liked } = remembered(spaceId);
  if (liked && [...speed.options].some((o) => o.value === liked)) {
    speed.value = liked;
    audio.playbackRate = Number(liked);
  }
  root.classList.add("ready");
  showTime();
});
document.addEventListener("keydown", (event) => {
  if (["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName) && event.target !== position) return;
  if (event.key === " ") { event.preventDefault(); toggle(); }
  else if (event.key === "ArrowLeft") { event.preventDefault(); seek(audio.currentTime - 5); }
  else if (event.key === "ArrowRight") { event.preventDefault(); seek(audio.currentTime + 5); }
  else if (event.key === "c") setCaptions(!captionsOn);
});

// Reporting: a small dialog; the report carries where in the replay the listener was.
const reportDialog = root.querySelector(".report-dialog");
const reportForm = reportDialog.querySelector("form");
const reportStatus = reportDialog.querySelector(".report-status");
root.querySelector(".report").addEventListener("click", () => { reportStatus.textContent = ""; reportDialog.showModal(); });
reportForm.addEventListener("submit", async (event) => {
  if (event.submitter?.value !== "send") return;
  event.preventDefault();
  const reply = await fetch(`/api/v1/spaces/${spaceId}/reports`, {
    method: "POST",
    headers: writeHeaders,
    body: JSON.stringify({ reason: reportForm.reason.value, details: reportForm.details.value, at_seconds: Math.floor(audio.currentTime) }),
  });
  const body = await reply.json().catch(() => ({}));
  const problem = typeof body.detail === "string" ? sentence(body.detail) : "The report could not be sent; try again.";
  reportStatus.textContent = reply.ok ? "Thank you. A moderator will look at it." : problem;
  if (reply.ok) { reportForm.reset(); setTimeout(() => reportDialog.close(), 1500); }
});

// The transcript and captions, loaded at the start and again when they are ready.
async function loadCaptions() {
  const transcript = await fetch(`${api}/transcript`).then((r) => (r.ok ? r.json() : { segments: [] }));
  cues = transcript.segments;
  if (transcriptList) {
    transcriptList.replaceChildren(...cues.map((cue) => {
      const item = document.createElement("li");
      item.dataset.start = cue.startTime;
      item.dataset.end = cue.endTime;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = `${clock(cue.startTime)} ${cue.speaker}: ${cue.body}`;
      button.addEventListener("click", () => seek(cue.startTime));
      item.append(button);
      return item;
    }));
  }
  const track = audio.querySelector("track");
  if (track && cues.length) {
    const fresh = track.cloneNode();
    fresh.src = `/i/spaces/${spaceId}/captions.vtt?v=${cues.length}`;
    track.replaceWith(fresh);
  }
  showTime();
}

// The Space page tells the player how its captions are coming along (space_phase.js).
document.addEventListener("space:phase", ({ detail: phase }) => {
  const making = ["queued", "running"].includes(phase.captions) || (phase.captions === null && phase.recording === "processing");
  const progress = phase.captions === "running" ? ` ${Math.round(phase.captions_progress * 100)}%` : "";
  captionsStatus.textContent = making ? `Captions are being made…${progress}`
    : phase.captions === "failed" ? "Captions could not be made for this recording." : "";
  if (phase.captions === "done" && cues.length === 0) loadCaptions();
});
document.dispatchEvent(new Event("space:phase?"));

async function loadWaveform() {
  const waveform = await fetch(`${api}/waveform`).then((r) => (r.ok ? r.json() : { peaks: [] }));
  peaks = waveform.peaks;
  drawPlayed();
}

async function start() {
  await Promise.all([loadWaveform(), loadCaptions()]);
  // The M4A is made by a job right after the Space; ask for it and wait until it is ready.
  for (;;) {
    const reply = await fetch(`${api}/renditions`, { method: "POST", headers: writeHeaders, body: JSON.stringify({ format: "m4a" }) });
    const body = await reply.json();
    if (!reply.ok) { status.textContent = sentence(body.detail); return; }
    if (body.status === "ready") {
      audio.src = `/i/spaces/${spaceId}/recording.m4a`;
      if (!peaks.length) await loadWaveform(); // a replay opened as the Space ended
      return;
    }
    status.textContent = body.status === "failed" ? `The replay could not be prepared: ${body.error}` : `Preparing the replay… ${Math.round((body.progress || 0) * 100)}%`;
    if (body.status === "failed") return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
start();
addEventListener("resize", drawPlayed);
