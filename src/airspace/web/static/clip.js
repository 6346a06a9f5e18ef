// A clip still being made: follow its job and show the clip once it is ready.
const article = document.querySelector(".clip");
const bar = article.querySelector(".clip-progress-bar");
const said = article.querySelector(".clip-progress");

async function poll() {
  const reply = await fetch(`/api/v1/clips/${article.dataset.clipId}`);
  if (!reply.ok) { said.textContent = "This clip is no longer available."; return; }
  const clip = await reply.json();
  if (clip.state !== "making") { location.reload(); return; }
  if (clip.job) {
    bar.value = clip.job.progress;
    said.textContent = `Making the clip and its videos… ${Math.round(clip.job.progress * 100)}%`;
  }
  setTimeout(poll, 1000);
}
setTimeout(poll, 1000);
