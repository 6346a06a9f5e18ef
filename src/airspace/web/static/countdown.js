// The countdown to a scheduled Space, and its start time in the reader's own time zone.
const starts = document.querySelector(".scheduled .starts");
const countdown = document.querySelector(".scheduled .countdown");
const at = new Date(starts.getAttribute("datetime"));
starts.textContent = at.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });

function tick() {
  const left = Math.max(0, Math.floor((at - Date.now()) / 1000));
  const d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
  countdown.textContent = left === 0 ? "Starting soon" : `${d ? `${d}d ` : ""}${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`;
}
tick();
setInterval(tick, 1000);
