// Making a clip from the player: pick where it starts and how long it lasts (shown on
// the waveform), preview it, give it a title and save; the clip's page follows its making.
import { clock, sentence } from "./format.js";

const player = document.querySelector(".player");
const panel = player.querySelector(".clip-panel");
const toggle = player.querySelector(".clip-button");
const audio = player.querySelector("audio");
const range = player.querySelector(".clip-range");
const start = panel.querySelector(".clip-start");
const length = panel.querySelector(".clip-length");
const said = panel.querySelector(".clip-status");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const spaceId = player.dataset.spaceId;
let previewEnd = null;


function show() {
  const duration = audio.duration || 0;
  const longest = Math.min(60, Math.max(5, duration - Number(start.value)));
  length.max = String(Math.floor(longest));
  panel.querySelector(".clip-start-value").textContent = clock(Number(start.value));
  panel.querySelector(".clip-length-value").textContent = `${length.value} s`;
  if (duration) {
    range.style.left = `${(Number(start.value) / duration) * 100}%`;
    range.style.width = `${(Math.min(Number(length.value), duration - Number(start.value)) / duration) * 100}%`;
  }
}

toggle.addEventListener("click", () => {
  panel.hidden = !panel.hidden;
  range.hidden = panel.hidden;
  toggle.setAttribute("aria-expanded", String(!panel.hidden));
  if (!panel.hidden) {
    start.max = String(Math.max(0, (audio.duration || 0) - 5));
    start.value = String(Math.min(audio.currentTime, Number(start.max)));
    show();
    panel.querySelector("input[name=title]").focus();
  }
});
start.addEventListener("input", show);
length.addEventListener("input", show);

panel.querySelector(".clip-preview").addEventListener("click", () => {
  audio.currentTime = Number(start.value);
  previewEnd = Number(start.value) + Number(length.value);
  audio.play();
});
audio.addEventListener("timeupdate", () => {
  if (previewEnd !== null && audio.currentTime >= previewEnd) { audio.pause(); previewEnd = null; }
});

panel.addEventListener("submit", async (event) => {
  event.preventDefault();
  said.textContent = "Saving the clip…";
  const from = Number(start.value);
  const reply = await fetch(`/api/v1/spaces/${spaceId}/clips`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ title: panel.elements.title.value, start: from, end: from + Number(length.value) }),
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) { said.textContent = `Not saved. ${sentence(body.detail) || "Try again."}`; return; }
  said.replaceChildren("Clip saved. ");
  const link = document.createElement("a");
  link.href = `/i/clips/${body.id}`;
  link.textContent = "Open the clip";
  said.append(link);
});
