// How times read in the pages' scripts, as on the server (web/formatting.py).

// A position, as players show it: 0:45, 12:05, 1:02:09.
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// An error from the API as a sentence for people: "the space is not live" → "The space is
// not live." (the pages show what the server says, written as the rest of the page).
export function sentence(text) {
  const said = String(text ?? "").trim();
  if (!said) return "";
  const capital = said[0].toUpperCase() + said.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
