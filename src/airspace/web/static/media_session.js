// The replay on the lock screen and headset buttons (the Media Session API): title, host
// and cover art, play and pause, skips, seeking, and the next or previous speaker.
export function offerMediaSession(audio, { title, artist, artwork, seek, player }) {
  if (!("mediaSession" in navigator)) return;
  const session = navigator.mediaSession;
  session.metadata = new MediaMetadata({ title, artist, album: "Airspace", artwork: [{ src: artwork, sizes: "600x600", type: "image/png" }] });
  const press = (name) => () => player.querySelector(name)?.click();
  const handlers = {
    play: () => audio.play(),
    pause: () => audio.pause(),
    seekbackward: (details) => seek(audio.currentTime - (details.seekOffset || 15)),
    seekforward: (details) => seek(audio.currentTime + (details.seekOffset || 15)),
    seekto: (details) => seek(details.seekTime),
    previoustrack: press(".previous-speaker"),
    nexttrack: press(".next-speaker"),
  };
  for (const [action, handler] of Object.entries(handlers)) {
    try { session.setActionHandler(action, handler); } catch { /* not offered by this browser */ }
  }
  const showPosition = () => {
    if (!Number.isFinite(audio.duration) || audio.duration <= 0) return;
    session.setPositionState({ duration: audio.duration, playbackRate: audio.playbackRate, position: Math.min(audio.currentTime, audio.duration) });
  };
  for (const event of ["loadedmetadata", "ratechange", "seeked", "play", "pause"]) audio.addEventListener(event, showPosition);
  audio.addEventListener("play", () => { session.playbackState = "playing"; });
  audio.addEventListener("pause", () => { session.playbackState = "paused"; });
}
