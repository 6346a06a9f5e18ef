// The Space page follows the Space: when it goes live, ends, or its replay is ready, the
// page changes in place (no reload); the player hears of its captions as they are made.
// Every phase is also sent to the page as a "space:phase" event.
import { ReconnectingSocket } from "./reconnecting_socket.js";

const spaceId = document.querySelector("article.space").dataset.spaceId;
const announcer = document.querySelector(".phase-announcer");
let swapping = false;

// The new version of the page's Space article, with its scripts running.
async function swap(view) {
  if (swapping) return;
  swapping = true;
  try {
    const reply = await fetch(location.pathname + location.search, { headers: { Accept: "text/html" } });
    if (!reply.ok) return;
    const fresh = new DOMParser().parseFromString(await reply.text(), "text/html");
    const article = fresh.querySelector("article.space");
    if (!article || article.dataset.view !== view) return; // not there yet: the next phase says
    document.querySelector("article.space").replaceWith(document.adoptNode(article));
    // Scripts that arrive through the parser do not run; new elements do.
    for (const old of article.querySelectorAll("script")) {
      const script = document.createElement("script");
      for (const { name, value } of old.attributes) script.setAttribute(name, value);
      script.textContent = old.textContent;
      old.replaceWith(script);
    }
    const title = fresh.querySelector("title");
    if (title) document.title = title.textContent;
    if (announcer) announcer.textContent = article.dataset.announce || "";
  } finally {
    swapping = false;
  }
}

let latest = null;
new ReconnectingSocket(`/api/v1/spaces/${spaceId}/phase`, {
  onMessage: async (phase) => {
    latest = phase;
    const shown = document.querySelector("article.space").dataset.view;
    if (phase.view !== shown) await swap(phase.view);
    document.dispatchEvent(new CustomEvent("space:phase", { detail: latest }));
  },
});

// Scripts that start after a phase arrived (the player, after a swap) ask for the last one.
document.addEventListener("space:phase?", () => {
  if (latest) document.dispatchEvent(new CustomEvent("space:phase", { detail: latest }));
});
