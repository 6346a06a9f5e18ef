// The bell: its unread count follows the account's notification stream (server-sent
// events, reconnected by the browser), so a followed host going live shows at once.
const bell = document.querySelector(".bell");
const count = bell?.querySelector(".unread-count");

function show(unread) {
  bell.dataset.unread = String(unread);
  count.textContent = String(unread);
  count.hidden = unread === 0;
  bell.setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
}

if (bell && "EventSource" in window) {
  const stream = new EventSource("/api/v1/me/notifications/stream");
  stream.addEventListener("unread", (event) => show(JSON.parse(event.data).unread));
  window.addEventListener("pagehide", () => stream.close());
}
