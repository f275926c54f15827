// REST calls and the login session: tokens live in memory and in sessionStorage (per tab),
// the access token is refreshed before it expires, and a 401 gets one refresh and a retry.

const API_ROOT = '/api/v1/';
const STORAGE_KEY = 'chat.session';
const REFRESH_AT = 0.8; // of the access token's lifetime
const REFRESH_RETRY_MS = 15_000;

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(describeError(status, body));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** The session is over (refresh refused): the user has to log in again. */
export class SessionEnded extends Error {}

function describeError(status, body) {
  if (body && typeof body.detail === 'string') return body.detail;
  if (body && typeof body === 'object') {
    return Object.entries(body)
      .map(([field, problems]) => `${field}: ${[].concat(problems).join(' ')}`)
      .join('\n');
  }
  if (status === 0) return 'The server cannot be reached.';
  return `The server answered ${status}.`;
}

export const config = {
  accessSeconds: 15 * 60,
  limits: { message_length: 10_000, upload_bytes: 25 * 1024 * 1024 },
};

let session = readStoredSession();
let refreshing = null;
let refreshTimer = null;
let sessionEndedHandler = () => {};

export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

export function hasSession() {
  return session !== null;
}

export function accessToken() {
  return session?.access ?? null;
}

function readStoredSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    return stored?.access && stored?.refresh ? stored : null;
  } catch {
    return null;
  }
}

function storeTokens({ access, refresh }) {
  session = { access, refresh, issuedAt: Date.now() };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  scheduleRefresh();
}

function scheduleRefresh(delay = null) {
  clearTimeout(refreshTimer);
  if (!session) return;
  const due = session.issuedAt + config.accessSeconds * 1000 * REFRESH_AT - Date.now();
  refreshTimer = setTimeout(refreshSoon, delay ?? Math.max(due, 1000));
}

function refreshSoon() {
  refreshTokens().catch((error) => {
    if (!(error instanceof SessionEnded)) scheduleRefresh(REFRESH_RETRY_MS);
  });
}

/** Timers sleep in background tabs: catch up when the tab is shown again. */
export function refreshIfDue() {
  if (!session) return;
  const age = Date.now() - session.issuedAt;
  if (age > config.accessSeconds * 1000 * REFRESH_AT) refreshSoon();
}

/** Forget the tokens; `byUser` tells a logout from a session the server ended. */
export function endSession({ byUser = false } = {}) {
  const hadSession = session !== null;
  session = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(STORAGE_KEY);
  if (hadSession) sessionEndedHandler({ byUser });
}

/** One refresh at a time: rotation spends the old refresh token, so a second would fail. */
export function refreshTokens() {
  refreshing ??= refreshOnce().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function refreshOnce() {
  if (!session) throw new SessionEnded();
  const answer = await send('POST', 'auth/refresh', { json: { refresh: session.refresh } });
  if (answer.status === 401 || answer.status === 400) {
    endSession();
    throw new SessionEnded();
  }
  if (answer.status !== 200) throw toError(answer);
  storeTokens(answer.body);
}

function url(path, query) {
  const target = new URL(path.startsWith('/') ? path : API_ROOT + path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value != null && value !== '') target.searchParams.set(key, value);
  }
  return target;
}

async function parseBody(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

/** One HTTP exchange → {status, body, retryAfter}; status 0 when the network failed. */
async function send(method, path, { json, form, query, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const body = json !== undefined ? JSON.stringify(json) : form;
  try {
    const response = await fetch(url(path, query), { method, headers, body });
    return {
      status: response.status,
      body: await parseBody(response),
      retryAfter: response.headers.get('Retry-After'),
    };
  } catch {
    return { status: 0, body: null, retryAfter: null };
  }
}

/** Upload with progress (fetch cannot report it), same answer shape as `send`. */
function sendWithProgress(method, path, { form, token, onProgress }) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url(path));
    xhr.setRequestHeader('Accept', 'application/json');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body = xhr.responseText;
      try {
        body = body ? JSON.parse(body) : null;
      } catch {
        // not JSON: keep the text
      }
      resolve({ status: xhr.status, body, retryAfter: xhr.getResponseHeader('Retry-After') });
    };
    xhr.onerror = () => resolve({ status: 0, body: null, retryAfter: null });
    xhr.send(form);
  });
}

function toError(answer) {
  return new ApiError(answer.status, answer.body, Number(answer.retryAfter) || null);
}

/** Run `exchange(token)`; on 401 refresh once and retry; a second 401 ends the session. */
async function authorized(exchange) {
  if (!session) throw new SessionEnded();
  const token = session.access;
  let answer = await exchange(token);
  if (answer.status === 401) {
    if (session?.access === token) await refreshTokens();
    if (!session) throw new SessionEnded();
    answer = await exchange(session.access);
    if (answer.status === 401) {
      endSession();
      throw new SessionEnded();
    }
  }
  if (answer.status === 0 || answer.status >= 400) throw toError(answer);
  return answer.body;
}

export function request(method, path, options = {}) {
  return authorized((token) => send(method, path, { ...options, token }));
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, json) => request('POST', path, { json });
export const patch = (path, json) => request('PATCH', path, { json });
export const del = (path, options) => request('DELETE', path, options);

export function upload(method, path, form, onProgress) {
  return authorized((token) => sendWithProgress(method, path, { form, token, onProgress }));
}

/** Token lifetime and limits from /api/v1/info (defaults stand if it cannot be read). */
export async function loadConfig() {
  const answer = await send('GET', 'info');
  if (answer.status === 200) {
    config.accessSeconds = answer.body.tokens.access_seconds;
    Object.assign(config.limits, answer.body.limits);
  }
  scheduleRefresh();
}

async function openSession(path, fields) {
  const answer = await send('POST', path, { json: fields });
  if (answer.status !== 200 && answer.status !== 201) throw toError(answer);
  storeTokens(answer.body);
  return answer.body.user;
}

export const login = (username, password) => openSession('auth/login', { username, password });
export const register = (fields) => openSession('auth/register', fields);

export async function logout() {
  if (!session) return;
  await request('POST', 'auth/logout', { json: { refresh: session.refresh } }).catch(() => {});
  endSession({ byUser: true });
}
