// A waveform of peaks (0 to 1, ten a second) drawn across a canvas 64 px high: bars
// left of ``split`` (0 to 1) in ``before``, the rest in ``after``, and a marker line
// at ``split`` when asked for.
export function drawWaveform(canvas, peaks, split, { before, after, marker = null }) {
  const width = canvas.clientWidth || 600;
  canvas.width = width * devicePixelRatio;
  canvas.height = 64 * devicePixelRatio;
  const g = canvas.getContext("2d");
  g.scale(devicePixelRatio, devicePixelRatio);
  g.clearRect(0, 0, width, 64);
  for (let x = 0; x < width && peaks.length; x++) {
    const from = Math.floor((x / width) * peaks.length);
    const to = Math.max(from + 1, Math.floor(((x + 1) / width) * peaks.length));
    const h = Math.max(1, Math.max(...peaks.slice(from, to)) * 60);
    g.fillStyle = x / width < split ? before : after;
    g.fillRect(x, 32 - h / 2, 1, h);
  }
  if (marker) {
    g.fillStyle = marker;
    g.fillRect(Math.round(split * width), 0, 2, 64);
  }
}
