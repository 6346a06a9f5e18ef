// The share sheet under the player: copy the link (or the link at this moment) with
// feedback, embed code, the phone's own share sheet, and sharing inside the instance.
import { sentence } from "./format.js";

const sheet = document.querySelector(".share-menu");
const player = sheet.closest(".player");
const toggle = player.querySelector("button.share");
const audio = player.querySelector("audio");
const status = sheet.querySelector(".copy-status");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const spaceId = player.dataset.spaceId;
const link = `${location.origin}/i/spaces/${spaceId}`;
const linkNow = () => `${link}?t=${Math.floor(audio.currentTime)}`;

toggle.addEventListener("click", () => {
  sheet.hidden = !sheet.hidden;
  toggle.setAttribute("aria-expanded", String(!sheet.hidden));
});

// The clipboard API needs a secure context; off HTTPS the text is copied the old way
// from a selected field.
async function copy(text, what) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
    await navigator.clipboard.writeText(text);
  } catch {
    const field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.append(field);
    field.select();
    const copied = document.execCommand("copy");
    field.remove();
    if (!copied) { status.textContent = `Copy this ${what}: ${text}`; return; }
  }
  status.textContent = `Copied the ${what}.`;
}

sheet.querySelector(".copy-link").addEventListener("click", () => copy(link, "link"));
sheet.querySelector(".copy-time").addEventListener("click", () => copy(linkNow(), "link at the current time"));
for (const embed of sheet.querySelectorAll(".embed-code")) embed.addEventListener("focus", () => embed.select());

const native = sheet.querySelector(".native-share");
if (navigator.share) {
  native.hidden = false;
  native.addEventListener("click", () => navigator.share({ title: document.title, url: linkNow() }).catch(() => {}));
}

const form = sheet.querySelector(".share-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const said = form.querySelector(".share-status");
  const to = form.elements.to.value.split(",").map((name) => name.trim()).filter(Boolean);
  const at = audio.currentTime > 1 ? Math.floor(audio.currentTime) : null;
  said.textContent = "Sharing…";
  const reply = await fetch(`/api/v1/spaces/${spaceId}/shares`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ comment: form.elements.comment.value, followers: form.elements.followers.checked, to, at }),
  });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) { said.textContent = `Not shared. ${sentence(body.detail) || "Try again."}`; return; }
  const parts = [];
  if (body.followers) parts.push("your followers");
  if (body.notified) parts.push(`${body.notified} account${body.notified === 1 ? "" : "s"}`);
  said.textContent = `Shared with ${parts.join(" and ") || "nobody new"}.`;
  form.reset();
});
