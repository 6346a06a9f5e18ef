// Where each listener was in each replay, and the speed they like, kept in this browser:
// coming back to a replay goes on from there.
const KEY = (id) => `airspace:replay:${id}`;
const MARGIN_SECONDS = 5; // near the start or the end, there is nothing to go back to

export function remembered(id) {
  try { return JSON.parse(localStorage.getItem(KEY(id)) || "{}"); } catch { return {}; }
}

export function remember(id, update) {
  try { localStorage.setItem(KEY(id), JSON.stringify({ ...remembered(id), ...update })); } catch { /* storage full or off */ }
}

// The position to resume at, if any, for a replay of ``duration`` seconds.
export function resumeAt(id, duration) {
  const { position } = remembered(id);
  return position > MARGIN_SECONDS && position < duration - MARGIN_SECONDS ? position : null;
}
