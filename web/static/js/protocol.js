// The WebSocket protocol of /ws: JSON frames {cmd, request_id, data}. A
// frame naming a method ("/message.MessageService/SyncMessages") is a call,
// answered by a frame with the same request_id (or cmd "error" with a
// google.rpc.Status); frames with request_id 0 are pushes ("message").
// "auth" binds the connection to a token. See README, "The WebSocket edge".

// Connection keeps one socket open while keepOpen() says so (signed in),
// reopening it with backoff (1 s doubling to 30 s, with jitter); otherwise a
// socket is opened by the next call. Listeners: onState("connecting" |
// "online" | "offline"), onPush(frame), onOpen() after every (re)open,
// before calls are sent on it (it must use send, not call).
export class Connection {
  constructor({ onState, onPush, onOpen, keepOpen }) {
    Object.assign(this, { onState, onPush, onOpen, keepOpen });
    this.nextId = 0;
    this.waiting = new Map();
    this.backoff = 1000;
    this.closed = false;
    this.ready = null; // a promise of the open socket
  }

  // open resolves once the socket is open and onOpen has run.
  open() {
    if (!this.ready) this.ready = this.dial();
    return this.ready;
  }

  dial() {
    this.onState("connecting");
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    return new Promise((resolve, reject) => {
      let opened = false;
      ws.onopen = async () => {
        opened = true;
        this.backoff = 1000;
        try {
          await this.onOpen();
          this.onState("online");
          resolve();
        } catch (err) {
          reject(err);
          ws.close(); // not left half signed in: the next call or retry starts over
        }
      };
      ws.onclose = () => {
        for (const { reject: fail } of this.waiting.values()) fail(new Error("connection lost"));
        this.waiting.clear();
        if (!opened) reject(new Error("cannot reach the server"));
        this.ready = null;
        if (this.closed || !this.keepOpen()) return;
        this.onState("offline");
        const wait = this.backoff * (0.75 + Math.random() / 2);
        this.backoff = Math.min(this.backoff * 2, 30_000);
        setTimeout(() => this.open().catch(() => {}), wait);
      };
    });
  }

  receive(frame) {
    const pending = frame.request_id && this.waiting.get(frame.request_id);
    if (pending) {
      this.waiting.delete(frame.request_id);
      if (frame.cmd === "error") pending.reject(Object.assign(new Error(frame.data?.message || "error"), { code: frame.data?.code }));
      else pending.resolve(frame.data || {});
      return;
    }
    if (frame.cmd !== "error") this.onPush(frame);
  }

  // send sends a call on the open socket and resolves with its answer.
  send(cmd, data = {}) {
    const id = ++this.nextId;
    const answer = new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.ws.send(JSON.stringify({ cmd, request_id: id, data }));
    return answer;
  }

  // call waits for the connection, then sends.
  async call(cmd, data) {
    await this.open();
    return this.send(cmd, data);
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
