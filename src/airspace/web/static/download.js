// The download page: queue a download, show its progress, then the file link.
import { sentence } from "./format.js";

const form = document.getElementById("download-form");
const statusBox = document.getElementById("download-status");
const stateText = document.getElementById("download-state");
const bar = document.getElementById("download-progress");
const errorBox = document.getElementById("download-error");
const resultBox = document.getElementById("download-result");
const csrf = document.querySelector('meta[name="csrf-token"]').content;

function show(element, visible) { element.hidden = !visible; }

function fail(message) {
  errorBox.textContent = message;
  show(errorBox, true);
  show(statusBox, false);
  form.querySelector("button").disabled = false;
}

function detail(body) {
  if (typeof body.detail === "string") return sentence(body.detail);
  if (Array.isArray(body.detail)) return body.detail.map((e) => e.msg).join("; ");
  return "Something went wrong.";
}

async function poll(id) {
  const response = await fetch(`/api/v1/downloads/${id}`);
  const body = await response.json();
  if (!response.ok) return fail(detail(body));
  bar.value = body.progress;
  if (body.status === "failed") return fail(body.error || "The download failed.");
  if (body.status !== "done") {
    stateText.textContent = body.status === "queued" ? "Waiting for a free worker…"
      : `Downloading… ${Math.round(body.progress * 100)}%`;
    setTimeout(() => poll(id), 700);
    return;
  }
  show(statusBox, false);
  document.getElementById("download-title").textContent = body.title;
  document.getElementById("download-host").textContent = `by ${body.host}`;
  const link = document.getElementById("download-link");
  link.href = body.file_url;
  const minutes = Math.floor(body.duration_seconds / 60);
  const seconds = Math.round(body.duration_seconds % 60).toString().padStart(2, "0");
  link.textContent = `Download (${minutes}:${seconds})`;
  document.getElementById("download-expiry").textContent =
    `The link works until ${new Date(body.expires_at).toLocaleTimeString()}.`;
  const list = document.getElementById("download-warnings");
  list.replaceChildren(...body.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  show(resultBox, true);
  form.querySelector("button").disabled = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(errorBox, false);
  show(resultBox, false);
  const data = new FormData(form);
  form.querySelector("button").disabled = true;
  const response = await fetch("/api/v1/downloads", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ url: String(data.get("url")).trim(), format: data.get("format") }),
  });
  const body = await response.json();
  if (!response.ok) return fail(detail(body));
  bar.value = 0;
  stateText.textContent = "Queued…";
  show(statusBox, true);
  poll(body.id);
});
