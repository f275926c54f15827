// The tab's one WebSocket: token in the `bearer` subprotocol, reconnect with jittered
// exponential backoff, one token refresh on 4401, and a ping to notice a dead connection.

import { SessionEnded, accessToken, endSession, refreshTokens } from './api.js';

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 45_000;
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_SILENT = 4000;

function socketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws/`;
}

export class ChatSocket {
  /** onFrame(frame) gets every server frame but `pong`; onStatus(state) 'connecting' | 'online' | 'offline'. */
  constructor({ onFrame, onStatus }) {
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.ws = null;
    this.status = 'offline';
    this.attempt = 0;
    this.refreshedForAuth = false;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop(1000);
  }

  get isOnline() {
    return this.status === 'online';
  }

  /** Send a frame if the socket is up and has said hello; false otherwise. */
  send(frame) {
    if (!this.isOnline) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** The network came back or the tab woke: skip the rest of the backoff. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    const token = accessToken();
    if (!token) return;
    const ws = new WebSocket(socketUrl(), ['bearer', token]);
    this.ws = ws;
    this.setStatus('connecting');
    ws.onopen = () => this.startPing();
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.setStatus('offline');
      if (!this.stopped) this.afterClose(event.code);
    };
  }

  receive(data) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === 'initial_data') {
      this.attempt = 0;
      this.refreshedForAuth = false;
      this.setStatus('online');
    }
    if (frame.type !== 'pong') this.onFrame(frame);
  }

  async afterClose(code) {
    if (code !== CLOSE_UNAUTHORIZED) {
      this.scheduleReconnect();
      return;
    }
    if (this.refreshedForAuth) {
      endSession();
      return;
    }
    this.refreshedForAuth = true;
    try {
      await refreshTokens();
      if (!this.stopped) this.connect();
    } catch (error) {
      if (!(error instanceof SessionEnded)) this.scheduleReconnect();
    }
  }

  scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startPing() {
    this.lastFrameAt = Date.now();
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) this.drop(CLOSE_SILENT);
      else this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  /** Give up on the current socket at once (a dead one may take minutes to report close). */
  drop(code) {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    clearInterval(this.pingTimer);
    ws.close(code);
    this.setStatus('offline');
    if (!this.stopped) this.scheduleReconnect();
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }
}
