// The replay's Download menu: the file is made if it has not been (its progress shown),
// then the browser saves it under the Space's name.
import { sentence } from "./format.js";

const menu = document.querySelector(".download-menu");
const spaceId = menu.dataset.spaceId;
const bar = menu.querySelector(".download-progress");
const said = menu.querySelector(".download-status");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const names = { mp3: "MP3", m4a: "M4A", wav: "WAV" };

async function prepare(format) {
  const reply = await fetch(`/api/v1/spaces/${spaceId}/recording/renditions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ format }),
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok || body.status === "failed") {
    said.textContent = `The ${names[format]} file could not be made. ${sentence(body.detail || body.error) || "Try again."}`;
    bar.hidden = true;
    return;
  }
  if (body.status === "ready") {
    bar.hidden = true;
    said.textContent = `Your ${names[format]} file is downloading.`;
    location.href = `/i/spaces/${spaceId}/download.${format}`;
    return;
  }
  bar.hidden = false;
  bar.value = body.progress || 0;
  said.textContent = `Making the ${names[format]} file… ${Math.round((body.progress || 0) * 100)}%`;
  setTimeout(() => prepare(format), 1000);
}

for (const button of menu.querySelectorAll("button[data-format]")) {
  button.addEventListener("click", () => prepare(button.dataset.format));
}
