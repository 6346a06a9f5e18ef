// The download page: queue a download, show its progress, then the file link. A Space of
// this instance that has not ended yet is asked for ahead instead: the account is told
// when it starts, and gets the file once it ends (a notification leads back here with
// ?job=<id>).
import { sentence } from "./format.js";

const form = document.getElementById("download-form");
const statusBox = document.getElementById("download-status");
const stateText = document.getElementById("download-state");
const bar = document.getElementById("download-progress");
const errorBox = document.getElementById("download-error");
const resultBox = document.getElementById("download-result");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const aheadBox = document.getElementById("download-ahead");
const aheadList = document.getElementById("ahead-list");
const signedIn = document.querySelector(".downloader").dataset.signedIn === "yes";
const SPACE_PATH = /^\/i\/spaces\/([0-9A-Za-z]{13})\/?$/;

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

// When is a scheduled Space, in the reader's words: "starts in 2 h 5 min", "is live now".
function when(space) {
  if (space.state === "live") return "is live now.";
  if (!space.scheduled_start) return "has not started yet.";
  const at = new Date(space.scheduled_start);
  const left = Math.round((at - Date.now()) / 60000);
  if (left <= 0) return "is due to start.";
  const words = left < 60 ? `${left} min` : `${Math.floor(left / 60)} h${left % 60 ? ` ${left % 60} min` : ""}`;
  return `starts in ${words} (${at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}).`;
}

// A Space of this instance that will have a recording but has not ended: its details.
async function notEndedYet(url) {
  let link;
  try { link = new URL(url); } catch { return null; }
  const match = link.origin === location.origin && SPACE_PATH.exec(link.pathname);
  if (!match) return null;
  const response = await fetch(`/api/v1/spaces/${match[1]}`);
  if (!response.ok) return null;
  const space = await response.json();
  return space.record && (space.state === "scheduled" || space.state === "live") ? space : null;
}

function offerAhead(space, url, format) {
  document.getElementById("ahead-title").textContent = space.title;
  document.getElementById("ahead-when").textContent = when(space);
  const ask = document.getElementById("ahead-ask");
  if (ask) {
    ask.disabled = false;
    ask.textContent = `Notify me and download it (${format.toUpperCase()})`;
    ask.onclick = async () => {
      ask.disabled = true;
      const response = await fetch("/api/v1/downloads/ahead", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ url, format }),
      });
      const body = await response.json();
      if (!response.ok) { ask.disabled = false; return fail(detail(body)); }
      ask.textContent = "Asked: you will be notified";
      listAhead();
    };
  }
  show(aheadBox, true);
  form.querySelector("button").disabled = false;
}

async function withdraw(spaceId) {
  await fetch(`/api/v1/downloads/ahead/${spaceId}`, { method: "DELETE", headers: { "X-CSRF-Token": csrf } });
  listAhead();
}

async function listAhead() {
  if (!aheadList) return;
  const response = await fetch("/api/v1/downloads/ahead");
  if (!response.ok) return;
  const asked = await response.json();
  aheadList.replaceChildren(...asked.map((item) => {
    const row = document.createElement("li");
    const link = Object.assign(document.createElement("a"), { href: item.link, textContent: item.title });
    const what = document.createElement("span");
    what.className = "muted";
    what.textContent = ` ${item.format.toUpperCase()} · ${when(item)} `;
    const cancel = Object.assign(document.createElement("button"), { type: "button", className: "secondary", textContent: "Cancel" });
    cancel.setAttribute("aria-label", `Cancel the download of ${item.title}`);
    cancel.addEventListener("click", () => withdraw(item.space_id));
    row.append(link, what, cancel);
    return row;
  }));
  show(document.getElementById("ahead-list-box"), asked.length > 0);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(errorBox, false);
  show(resultBox, false);
  show(aheadBox, false);
  const data = new FormData(form);
  form.querySelector("button").disabled = true;
  const url = String(data.get("url")).trim();
  const upcoming = await notEndedYet(url);
  if (upcoming) return offerAhead(upcoming, url, String(data.get("format")));
  const response = await fetch("/api/v1/downloads", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ url, format: data.get("format") }),
  });
  const body = await response.json();
  if (!response.ok) return fail(detail(body));
  bar.value = 0;
  stateText.textContent = "Queued…";
  show(statusBox, true);
  poll(body.id);
});

// A notification's link: the download it announced.
const asked = new URLSearchParams(location.search).get("job");
if (asked && /^[0-9a-f]{32}$/.test(asked)) {
  stateText.textContent = "Looking up your download…";
  show(statusBox, true);
  poll(asked);
}
if (signedIn) listAhead();
