// What the user and the server make happen: loading, sending, catching up after a gap.
// Views call these; these call the API or the socket and merge the answers into the store.

import * as api from './api.js';
import { ChatSocket } from './socket.js';
import {
  applyChanges,
  applyEvent,
  applySync,
  changed,
  findMessage,
  hooks,
  isMe,
  putChat,
  putMessage,
  removeChat,
  resetState,
  resetThread,
  rememberUser,
  setMe,
  setOnlineUsers,
  settlePending,
  sortedMessages,
  state,
  threadOf,
} from './store.js';

const PAGE_SIZE = 50;
const CHANGES_LIMIT = 500;
const RELOAD_INSTEAD_OF_CHANGES = 2000; // versions behind: reload the latest page instead
const ACK_TIMEOUT_MS = 8000;
const TYPING_REPEAT_MS = 2500;
const TYPING_IDLE_MS = 5000;
const CATCH_UP_DELAY_MS = 300;
const RETRY_LATER_MS = 5000;

export const socket = new ChatSocket({
  onFrame: handleFrame,
  onStatus(status) {
    state.connection = status;
    changed('connection');
  },
});

hooks.gap = scheduleCatchUp;
hooks.unknownChat = fetchChat;

export function startSession(user) {
  if (user) setMe(user);
  socket.start();
  loadMoreChats().catch(report);
}

export function endSession() {
  stopTyping();
  socket.stop();
  resetState();
}

export function report(error) {
  if (!(error instanceof api.SessionEnded)) console.warn(error);
}

// --- Socket frames --------------------------------------------------------------------------

function handleFrame(frame) {
  switch (frame.type) {
    case 'initial_data':
      handleInitialData(frame);
      break;
    case 'resync':
      resync().catch(report);
      break;
    case 'ack':
      settleSent(frame.client_id, frame.message);
      break;
    case 'error':
      handleSocketError(frame);
      break;
    default:
      applyEvent(frame);
  }
}

function handleInitialData(frame) {
  const askedAt = Date.now();
  setMe(frame.user);
  for (const chat of frame.chats) if (putChat(chat)) scheduleCatchUp(chat.id);
  if (state.chatsCursor === undefined) state.chatsCursor = frame.chats_next ?? null;
  setOnlineUsers(frame.online_users);
  applySync(frame.sync, askedAt);
  resendWaiting();
  changed('chats', 'current', 'thread');
}

async function resync() {
  const askedAt = Date.now();
  applySync(await api.get('chats/sync'), askedAt);
}

function handleSocketError(frame) {
  const item = frame.client_id && state.outbox.get(frame.client_id);
  if (item) failPending(item, frame.detail, frame.code === 'rate_limited' ? frame.retry_after : null);
  else if (frame.code !== 'rate_limited') console.warn('socket error', frame.code, frame.detail);
}

// --- Catching up ----------------------------------------------------------------------------

const catchUpQueue = new Set();
let catchUpTimer = null;
let catchingUp = false;

function scheduleCatchUp(chatId) {
  catchUpQueue.add(chatId);
  clearTimeout(catchUpTimer);
  catchUpTimer = setTimeout(runCatchUps, CATCH_UP_DELAY_MS);
}

async function runCatchUps() {
  if (catchingUp) return;
  catchingUp = true;
  try {
    while (catchUpQueue.size) {
      const [chatId] = catchUpQueue;
      catchUpQueue.delete(chatId);
      await catchUp(chatId).catch((error) => {
        if ([0, 429, 503].includes(error.status)) setTimeout(scheduleCatchUp, RETRY_LATER_MS, chatId);
        report(error);
      });
    }
  } finally {
    catchingUp = false;
  }
}

/** Re-read the chat, then every message change since the version we are complete up to. */
async function catchUp(chatId) {
  const detail = await readChat(chatId);
  if (!detail) return;
  const chat = state.chats.get(chatId);
  const thread = state.threads.get(chatId);
  if (thread?.ready && detail.version - chat.version > RELOAD_INSTEAD_OF_CHANGES) {
    resetThread(chatId);
    chat.version = detail.version;
    if (state.currentChatId === chatId) await loadLatest(chatId);
  } else if (thread?.ready) {
    let since = chat.version;
    for (;;) {
      const page = await api.get(`chats/${chatId}/changes`, { since, limit: CHANGES_LIMIT });
      applyChanges(chatId, page);
      changed('chats', 'thread');
      if (!page.has_more) break;
      since = page.version;
    }
  }
  changed('chats', 'current', 'thread');
}

/** GET the chat detail into the store; null (and the chat dropped) if it is gone for us. */
async function readChat(chatId) {
  try {
    const detail = await api.get(`chats/${chatId}`);
    return { behind: putChat(detail), version: detail.version };
  } catch (error) {
    if (error.status !== 404) throw error;
    removeChat(chatId);
    return null;
  }
}

/** A chat we have not seen yet (new, or beyond the pages loaded) had an event. */
const fetchingChats = new Set();

function fetchChat(chatId) {
  if (fetchingChats.has(chatId)) return;
  fetchingChats.add(chatId);
  readChat(chatId)
    .then(() => changed('chats'))
    .catch(report)
    .finally(() => fetchingChats.delete(chatId));
}

export async function refreshChat(chatId) {
  const detail = await readChat(chatId);
  if (detail?.behind) scheduleCatchUp(chatId);
  changed('chats', 'current', 'thread');
}

// --- Chat list and threads ------------------------------------------------------------------

let loadingChats = false;

export async function loadMoreChats() {
  if (loadingChats || state.chatsCursor === null) return;
  loadingChats = true;
  try {
    const page = await api.get('chats', { limit: PAGE_SIZE, before: state.chatsCursor });
    for (const chat of page.results) if (putChat(chat)) scheduleCatchUp(chat.id);
    state.chatsCursor = page.next ?? null;
    changed('chats');
  } finally {
    loadingChats = false;
  }
}

export async function openChat(chatId) {
  if (state.currentChatId !== chatId) stopTyping();
  state.currentChatId = chatId;
  changed('current', 'thread', 'typing', 'chats');
  if (!chatId) return;
  const thread = threadOf(chatId);
  if (thread.ready || thread.loading) {
    refreshChat(chatId).catch(report);
    return;
  }
  await loadLatest(chatId);
}

/** The chat detail first: the messages read after it are at least as new as its version. */
async function loadLatest(chatId) {
  const thread = threadOf(chatId);
  thread.loading = true;
  try {
    if (!(await readChat(chatId))) return;
    const page = await api.get(`chats/${chatId}/messages`, { limit: PAGE_SIZE });
    page.results.forEach(putMessage);
    thread.hasMoreBefore = page.has_more;
    thread.ready = true;
  } finally {
    thread.loading = false;
    changed('thread', 'chats', 'current');
  }
}

export async function loadOlder(chatId) {
  const thread = state.threads.get(chatId);
  if (!thread?.ready || !thread.hasMoreBefore || thread.loadingOlder) return;
  const oldest = sortedMessages(chatId)[0];
  if (!oldest) {
    thread.hasMoreBefore = false;
    return;
  }
  thread.loadingOlder = true;
  changed('thread');
  try {
    const page = await api.get(`chats/${chatId}/messages`, { before: oldest.seq, limit: PAGE_SIZE });
    page.results.forEach(putMessage);
    thread.hasMoreBefore = page.has_more;
  } finally {
    thread.loadingOlder = false;
    changed('thread');
  }
}

/** Move our read pointer to the chat's last message, if we are looking at it. */
export function markRead(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat || !state.threads.get(chatId)?.ready || document.visibilityState !== 'visible') return;
  const seq = chat.last_seq;
  if (seq <= Math.max(chat.last_read_seq, chat.cleared_seq)) return;
  chat.last_read_seq = seq;
  changed('chats');
  if (!socket.send({ type: 'mark_read', chat_id: chatId, seq })) {
    api.post(`chats/${chatId}/read`, { seq }).catch(report);
  }
}

// --- Sending --------------------------------------------------------------------------------

function newPending(chatId, fields) {
  const item = {
    client_id: crypto.randomUUID(),
    chat_id: chatId,
    created_at: new Date().toISOString(),
    status: 'sending',
    error: null,
    progress: null,
    timer: null,
    ...fields,
  };
  state.outbox.set(item.client_id, item);
  changed('thread');
  return item;
}

export function sendText(chatId, content, replyTo = null) {
  stopTyping();
  deliver(newPending(chatId, { content, reply_to: replyTo }));
}

export function sendFile(chatId, file, caption, replyTo = null) {
  stopTyping();
  const previewUrl = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
  deliver(newPending(chatId, { content: caption, reply_to: replyTo, file, previewUrl }));
}

/** Text goes over the socket when it is up (REST if no ack comes); files always by REST. */
function deliver(item) {
  Object.assign(item, { status: 'sending', error: null });
  changed('thread');
  const frame = { type: 'send_message', chat_id: item.chat_id, content: item.content };
  frame.client_id = item.client_id;
  if (item.reply_to) frame.reply_to = item.reply_to.id;
  if (!item.file && socket.send(frame)) {
    item.timer = setTimeout(() => deliverByRest(item), ACK_TIMEOUT_MS);
  } else {
    deliverByRest(item);
  }
}

async function deliverByRest(item) {
  if (!state.outbox.has(item.client_id)) return;
  const path = `chats/${item.chat_id}/messages`;
  try {
    const message = item.file
      ? await api.upload('POST', path, uploadForm(item), (progress) => {
          item.progress = progress;
          changed('thread');
        })
      : await api.post(path, {
          content: item.content,
          client_id: item.client_id,
          ...(item.reply_to && { reply_to: item.reply_to.id }),
        });
    settleSent(item.client_id, message);
  } catch (error) {
    if (error instanceof api.SessionEnded) return;
    failPending(item, error.message, error.status === 429 ? error.retryAfter : null);
  }
}

function uploadForm(item) {
  const form = new FormData();
  form.append('file', item.file, item.file.name);
  form.append('client_id', item.client_id);
  if (item.content) form.append('content', item.content);
  if (item.reply_to) form.append('reply_to', item.reply_to.id);
  return form;
}

function settleSent(clientId, message) {
  settlePending(clientId);
  if (message) putMessage(message);
  changed('thread', 'chats');
}

function failPending(item, detail, retryAfterSeconds) {
  clearTimeout(item.timer);
  if (retryAfterSeconds) {
    item.status = 'waiting';
    item.timer = setTimeout(() => deliver(item), retryAfterSeconds * 1000);
  } else {
    Object.assign(item, { status: 'failed', error: detail });
  }
  changed('thread');
}

/** After a reconnect: sends still waiting for an ack go again (client_id makes it safe). */
function resendWaiting() {
  for (const item of state.outbox.values()) {
    if (item.status === 'sending' && !item.file) {
      clearTimeout(item.timer);
      deliver(item);
    }
  }
}

export function retrySend(clientId) {
  const item = state.outbox.get(clientId);
  if (item) deliver(item);
}

export function discardSend(clientId) {
  settlePending(clientId);
  changed('thread');
}

// --- Typing ---------------------------------------------------------------------------------

let typingChatId = null;
let typingSentAt = 0;
let typingIdleTimer = null;

/** The user typed in a chat: a `typing` frame at most every few seconds. */
export function noteTyping(chatId) {
  clearTimeout(typingIdleTimer);
  typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  const now = Date.now();
  if (typingChatId === chatId && now - typingSentAt < TYPING_REPEAT_MS) return;
  if (typingChatId && typingChatId !== chatId) stopTyping();
  if (socket.send({ type: 'typing', chat_id: chatId, is_typing: true })) {
    typingChatId = chatId;
    typingSentAt = now;
  }
}

export function stopTyping() {
  clearTimeout(typingIdleTimer);
  if (!typingChatId) return;
  socket.send({ type: 'typing', chat_id: typingChatId, is_typing: false });
  typingChatId = null;
  typingSentAt = 0;
}

// --- Messages -------------------------------------------------------------------------------

export async function editMessage(message, content) {
  putMessage(await api.patch(`messages/${message.id}`, { content }));
  changed('thread', 'chats');
}

export async function deleteMessage(message) {
  await api.del(`messages/${message.id}`);
  const tombstone = { ...message, content: '', attachment: null, reactions: [], is_deleted: true };
  putMessage(tombstone);
  changed('thread', 'chats');
}

export async function toggleReaction(message, emoji) {
  const mine = message.reactions.some(
    (reaction) => reaction.emoji === emoji && reaction.user_ids.some(isMe),
  );
  const path = `messages/${message.id}/reactions`;
  const updated = mine
    ? await api.del(path, { query: { emoji } })
    : await api.post(path, { emoji });
  putMessage(updated);
  changed('thread');
}

/** File links expire: fetch the message again for a fresh one (once per message). */
const refreshedLinks = new Set();

export function refreshLink(chatId, messageId) {
  if (refreshedLinks.has(messageId) || !findMessage(chatId, messageId)) return;
  refreshedLinks.add(messageId);
  api
    .get(`messages/${messageId}`)
    .then((message) => {
      putMessage(message);
      changed('thread');
    })
    .catch(report);
}

// --- People, chats, groups ------------------------------------------------------------------

export async function searchUsers(query) {
  const page = await api.get('users', { search: query, page_size: 20 });
  page.results.forEach(rememberUser);
  return page.results;
}

async function putNewChat(request) {
  const chat = await request;
  if (putChat(chat)) scheduleCatchUp(chat.id);
  changed('chats');
  return chat.id;
}

export function startDirectChat(userId) {
  return putNewChat(api.post('chats', { type: 'direct', user_id: userId }));
}

export function createGroup({ name, description, memberIds }) {
  return putNewChat(api.post('chats', { type: 'group', name, description, member_ids: memberIds }));
}

async function thenRefresh(chatId, request) {
  await request;
  await refreshChat(chatId);
}

export const updateGroup = (chatId, fields) => thenRefresh(chatId, api.patch(`chats/${chatId}`, fields));

export const addMembers = (chatId, userIds) =>
  thenRefresh(chatId, api.post(`chats/${chatId}/members`, { user_ids: userIds }));

export const setMemberRole = (chatId, userId, role) =>
  thenRefresh(chatId, api.patch(`chats/${chatId}/members/${userId}`, { role }));

export const removeMember = (chatId, userId) =>
  thenRefresh(chatId, api.del(`chats/${chatId}/members/${userId}`));

export function setGroupAvatar(chatId, file) {
  const form = new FormData();
  form.append('avatar', file, file.name);
  return thenRefresh(chatId, api.upload('PUT', `chats/${chatId}/avatar`, form));
}

export async function leaveGroup(chatId) {
  await api.post(`chats/${chatId}/leave`);
  removeChat(chatId);
}

export async function deleteChat(chatId) {
  await api.del(`chats/${chatId}`);
  removeChat(chatId);
}

export async function updateProfile(fields) {
  setMe(await api.patch('users/me', fields));
}

export async function setMyAvatar(file) {
  const form = new FormData();
  form.append('avatar', file, file.name);
  setMe(await api.upload('PUT', 'users/me/avatar', form));
}

export async function removeMyAvatar() {
  setMe(await api.del('users/me/avatar'));
}
