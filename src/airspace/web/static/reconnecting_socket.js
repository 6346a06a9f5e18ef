// A WebSocket to this site that comes back after it drops: 1 s, 2 s, 4 s ... up to 30 s
// apart (with a little jitter so that a restarted server is not met by everyone at once),
// pinging every 20 s so that proxies keep it open. Messages are JSON.
const MAX_DELAY_MS = 30_000;
const PING_MS = 20_000;

export class ReconnectingSocket {
  constructor(path, { onMessage, onOpen = () => {}, onDown = () => {}, shouldRetry = () => true }) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    Object.assign(this, { onMessage, onOpen, onDown, shouldRetry });
    this.failures = 0;
    this.closed = false;
    this.open();
    this.pinger = setInterval(() => this.send({ type: "ping" }), PING_MS);
  }

  open() {
    const socket = (this.socket = new WebSocket(this.url));
    socket.addEventListener("open", () => { this.failures = 0; this.onOpen(); });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type !== "pong") this.onMessage(data);
    });
    socket.addEventListener("close", (event) => {
      if (this.closed || !this.shouldRetry(event)) return;
      this.onDown(event);
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.failures++) * (0.8 + Math.random() * 0.4);
      this.retry = setTimeout(() => this.open(), delay);
    });
  }

  send(data) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(data));
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.pinger);
    this.socket?.close();
  }
}
