// Follow / Unfollow a host without leaving the page.
import { sentence } from "./format.js";

const csrf = document.querySelector('meta[name="csrf-token"]').content;

for (const button of document.querySelectorAll("button.follow")) {
  const followers = button.closest(".follow-line")?.querySelector(".followers");
  button.addEventListener("click", async () => {
    const following = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const reply = await fetch(`/api/v1/users/${encodeURIComponent(button.dataset.username)}/follow`, {
        method: following ? "DELETE" : "PUT",
        headers: { "X-CSRF-Token": csrf },
      });
      const body = await reply.json();
      if (!reply.ok) throw new Error(sentence(body.detail) || "Try again.");
      button.setAttribute("aria-pressed", String(body.you_follow));
      button.textContent = body.you_follow ? "Following" : "Follow";
      button.classList.toggle("secondary", body.you_follow);
      if (followers) followers.textContent = `${body.followers} follower${body.followers === 1 ? "" : "s"}`;
    } catch (error) {
      if (followers) followers.textContent = `Could not change: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
}
