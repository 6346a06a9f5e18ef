// "Download your data": ask for an archive, follow its build, then offer the download.
import { sentence } from "./format.js";

const section = document.querySelector(".archive");
const said = section.querySelector(".archive-status");
const bar = section.querySelector(".archive-progress");
const request = section.querySelector(".archive-request");
const download = section.querySelector(".archive-download");
const csrf = document.querySelector('meta[name="csrf-token"]').content;

function show(archive) {
  if (archive.state === "building") {
    const progress = archive.job ? archive.job.progress : 0;
    bar.hidden = false;
    bar.value = progress;
    said.textContent = `Your archive is being made… ${Math.round(progress * 100)}%`;
    request.disabled = true;
    download.hidden = true;
    setTimeout(follow, 1000);
    return;
  }
  bar.hidden = true;
  request.disabled = false;
  if (archive.state === "ready") {
    const megabytes = (archive.size / 1048576).toFixed(1);
    said.textContent = `Your archive is ready (${megabytes} MB), until ${new Date(archive.expires_at).toDateString()}.`;
    download.hidden = false;
  } else if (archive.state === "failed") {
    said.textContent = `The archive could not be made: ${archive.error || "try again"}`;
  }
}

async function follow() {
  const reply = await fetch("/api/v1/me/archive");
  if (reply.ok) show(await reply.json());
}

request.addEventListener("click", async () => {
  request.disabled = true;
  said.textContent = "Asking for your archive…";
  const reply = await fetch("/api/v1/me/archive", { method: "POST", headers: { "X-CSRF-Token": csrf } });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) { said.textContent = sentence(body.detail) || "Try again."; request.disabled = false; return; }
  show(body);
});

if (section.dataset.state === "building") follow();
