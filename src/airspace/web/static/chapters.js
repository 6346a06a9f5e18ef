import { clock } from "./format.js";

// Chapters and speakers in the player: a chapter list to jump to, and buttons that skip
// to the next or previous speaker (on the replay's clock, like everything in the player).
const player = document.querySelector(".player");
const audio = player.querySelector("audio");
const api = `/api/v1/spaces/${player.dataset.spaceId}/recording`;
const list = player.querySelector(".chapter-list");
let chapters = [];
let turns = [];

function jump(seconds) {
  audio.currentTime = Math.max(0, seconds);
}

async function load() {
  const [chapterReply, speakerReply] = await Promise.all([fetch(`${api}/chapters`), fetch(`${api}/speakers`)]);
  if (chapterReply.ok) chapters = (await chapterReply.json()).chapters;
  if (speakerReply.ok) turns = (await speakerReply.json()).turns;
  if (list) {
    list.replaceChildren(...chapters.map((chapter, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = `${clock(chapter.start)} ${chapter.title}`;
      button.addEventListener("click", () => jump(chapter.start));
      item.dataset.index = String(index);
      item.append(button);
      return item;
    }));
  }
  const none = turns.length === 0;
  for (const name of [".next-speaker", ".previous-speaker"]) player.querySelector(name).disabled = none;
}

// The turn being heard (or the last one before now), and its speaker.
function turnAt(time) {
  let found = -1;
  turns.forEach((turn, index) => { if (turn.start <= time + 0.05) found = index; });
  return found;
}

player.querySelector(".next-speaker").addEventListener("click", () => {
  const now = audio.currentTime;
  const current = turnAt(now);
  const speaker = current >= 0 && now < turns[current].end ? turns[current].speaker : null;
  const next = turns.find((turn) => turn.start > now + 0.05 && turn.speaker !== speaker);
  if (next) jump(next.start);
});

player.querySelector(".previous-speaker").addEventListener("click", () => {
  const now = audio.currentTime;
  let index = turnAt(now);
  if (index < 0) { jump(0); return; }
  // Back to the start of this speaker's stretch, or, near it already, the one before.
  const speaker = turns[index].speaker;
  while (index > 0 && turns[index - 1].speaker === speaker) index -= 1;
  if (now - turns[index].start < 2 && index > 0) {
    const before = turns[index - 1].speaker;
    index -= 1;
    while (index > 0 && turns[index - 1].speaker === before) index -= 1;
  }
  jump(turns[index].start);
});

audio.addEventListener("timeupdate", () => {
  if (!list) return;
  let current = -1;
  chapters.forEach((chapter, index) => { if (chapter.start <= audio.currentTime) current = index; });
  for (const item of list.children) item.classList.toggle("current", item.dataset.index === String(current));
});

load();
