// The profile picture in Settings: the chosen image is made at most 1024 px wide here
// (phone photos are large), sent, and cropped and resized by the server.
import { sentence } from "./format.js";

const section = document.querySelector(".picture-settings");
const preview = section.querySelector("img.avatar");
const file = section.querySelector(".picture-file");
const remove = section.querySelector(".picture-remove");
const said = section.querySelector(".picture-status");
const headers = { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content };
const LARGEST = 1024;

async function smaller(chosen) {
  const bitmap = await createImageBitmap(chosen);
  const scale = Math.min(1, LARGEST / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
}

async function send(method, body) {
  const reply = await fetch("/api/v1/me/avatar", { method, headers: { ...headers, ...(body ? { "Content-Type": body.type } : {}) }, body });
  const answer = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(sentence(answer.detail) || "The picture could not be saved.");
  preview.src = answer.avatar_url;
  remove.hidden = answer.avatar_url.endsWith("?v=0");
}

file.addEventListener("change", async () => {
  const chosen = file.files[0];
  if (!chosen) return;
  said.textContent = "Saving your picture…";
  try {
    const picture = await smaller(chosen).catch(() => chosen); // not decodable here: the server says why
    await send("PUT", picture);
    said.textContent = "Picture saved.";
  } catch (error) {
    said.textContent = error.message;
  }
  file.value = "";
});

remove.addEventListener("click", async () => {
  try { await send("DELETE"); said.textContent = "Your initials are shown instead."; } catch (error) { said.textContent = error.message; }
});
