// One WebSocket to the server's /ws, reopened with backoff whenever it drops.
// Every frame is one JSON object of the soketler protocol (docs/protocol.md).

export const State = Object.freeze({
  OFFLINE: "offline", // not wanted (before login, after /quit)
  CONNECTING: "connecting", // socket opening, or open but not yet registered
  CONNECTED: "connected", // registered: the server answered hello
  WAITING: "waiting", // dropped; the next try is scheduled
});

// Tries come faster than a person would retry, then slow down so that a server that is
// down for long is not hammered by every open tab.
const DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];
const JITTER = 0.2; // +-20 %, so tabs dropped together do not come back in step
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000; // a connection silent this long after a ping is dead

export function backoffDelay(attempt, random = Math.random) {
  const base = DELAYS_MS[Math.min(attempt, DELAYS_MS.length - 1)];
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

export function socketUrl(location) {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export class Connection {
  constructor(url, { onOpen, onMessage, onStateChange }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStateChange = onStateChange;
    this.socket = null;
    this.wanted = false;
    this.attempt = 0;
    this.state = State.OFFLINE;
    this.retryAt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.deadTimer = null;
    this.closeInfo = "";
  }

  start() {
    this.wanted = true;
    if (!this.socket) this.open();
  }

  stop() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.stopKeepalive();
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
    this.setState(State.OFFLINE);
  }

  // The server accepted our hello: from now on a drop starts again from the shortest delay.
  registered() {
    this.attempt = 0;
    this.setState(State.CONNECTED);
  }

  retryNow() {
    if (!this.wanted || this.socket) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  setState(state) {
    this.state = state;
    this.onStateChange(state, this);
  }

  open() {
    this.setState(State.CONNECTING);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      this.startKeepalive();
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      this.heard();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours to show: the protocol has only JSON objects
      }
      if (message && typeof message === "object" && typeof message.type === "string") {
        this.onMessage(message);
      }
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.stopKeepalive();
      this.closeInfo = event.reason || "";
      if (this.wanted) this.scheduleRetry();
      else this.setState(State.OFFLINE);
    });
  }

  // Gives up on a socket that stopped answering without waiting for its closing
  // handshake, which on a dead network never comes.
  drop() {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.stopKeepalive();
    socket.close(4000, "no answer");
    if (this.wanted) this.scheduleRetry();
  }

  scheduleRetry() {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setState(State.WAITING);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  startKeepalive() {
    this.stopKeepalive();
    this.pingTimer = setInterval(() => {
      if (this.send({ type: "ping" }) && !this.deadTimer) {
        this.deadTimer = setTimeout(() => this.drop(), PONG_WITHIN_MS);
      }
    }, PING_EVERY_MS);
  }

  heard() {
    clearTimeout(this.deadTimer);
    this.deadTimer = null;
  }

  stopKeepalive() {
    clearInterval(this.pingTimer);
    this.heard();
  }
}
