// What the client knows, and the rules for merging what the server says into it.
// The server is the record: messages are de-duplicated by id, ordered by seq, and a newer
// `version` always wins. A chat's `version` here is the version this client is complete up
// to; an event further ahead is a gap that the actions layer fills with `changes`.

export const state = {
  me: null,
  chats: new Map(), // id -> <chat> (+ `members` once the detail was read)
  chatsCursor: undefined, // undefined: not loaded yet, null: every page loaded
  syncedChatIds: null, // ids of the last sync: tells a new chat from one not paged in yet
  threads: new Map(), // chat id -> {messages: Map(id -> <message>), ready, hasMoreBefore, ...}
  reads: new Map(), // chat id -> Map(user id -> last_read_seq) of the other members
  users: new Map(), // id -> <user>
  presence: new Map(), // user id -> {is_online, last_seen}
  typing: new Map(), // chat id -> Map(user id -> expiry in ms)
  outbox: new Map(), // client_id -> a send not confirmed yet
  currentChatId: null,
  connection: 'offline',
};

const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
}

/** Tell the views what changed: 'chats', 'thread', 'typing', 'presence', 'me', 'connection', 'current'. */
export function changed(...topics) {
  for (const listener of listeners) listener(topics);
}

/** Filled in by the actions layer: the store notices what is missing, actions fetch it. */
export const hooks = { gap: () => {}, unknownChat: () => {} };

export function resetState() {
  for (const item of state.outbox.values()) clearTimeout(item.timer);
  Object.assign(state, { me: null, chatsCursor: undefined, syncedChatIds: null });
  Object.assign(state, { currentChatId: null, connection: 'offline' });
  for (const key of ['chats', 'threads', 'reads', 'users', 'presence', 'typing', 'outbox']) {
    state[key].clear();
  }
  changed('me', 'chats', 'current', 'thread', 'typing', 'connection');
}

// --- Users and presence ---------------------------------------------------------------------

export function isMe(userId) {
  return state.me !== null && userId === state.me.id;
}

export function setMe(user) {
  state.me = user;
  rememberUser(user);
  changed('me');
}

export function rememberUser(user) {
  if (user) state.users.set(user.id, { ...state.users.get(user.id), ...user });
}

/** initial_data lists who is online now among the people who share a chat with us. */
export function setOnlineUsers(onlineIds) {
  const online = new Set(onlineIds);
  state.presence.clear();
  for (const user of state.users.values()) {
    state.presence.set(user.id, { is_online: online.has(user.id), last_seen: user.last_seen });
  }
  for (const id of online) state.presence.set(id, { is_online: true, last_seen: null });
  changed('presence');
}

export function presenceOf(userId) {
  if (isMe(userId)) return { is_online: true, last_seen: null };
  const known = state.presence.get(userId);
  const user = state.users.get(userId);
  return {
    is_online: known?.is_online ?? user?.is_online ?? false,
    last_seen: known?.last_seen ?? user?.last_seen ?? null,
  };
}

// --- Chats ----------------------------------------------------------------------------------

const time = (iso) => (iso ? Date.parse(iso) : 0);

function activityOf(chat) {
  return time(chat.last_message?.created_at ?? chat.created_at);
}

export function sortedChats() {
  return [...state.chats.values()].sort(
    (a, b) => activityOf(b) - activityOf(a) || b.id.localeCompare(a.id),
  );
}

export function unreadOf(chat) {
  return Math.max(0, chat.last_seq - Math.max(chat.last_read_seq, chat.cleared_seq));
}

export function chatTitle(chat) {
  if (chat.type === 'group') return chat.name;
  const other = chat.other_user && state.users.get(chat.other_user.id);
  return other ? other.full_name || other.username : 'Deleted account';
}

function newerMessage(current, candidate) {
  if (!current) return candidate ?? null;
  if (!candidate || candidate.seq < current.seq) return current;
  if (candidate.seq > current.seq || candidate.version >= current.version) return candidate;
  return current;
}

/**
 * Merge a <chat> from REST or the socket. Read pointers only move forward. Returns true
 * when the chat's open thread is now behind (its messages need `changes`).
 */
export function putChat(snapshot) {
  rememberUser(snapshot.other_user);
  snapshot.members?.forEach((member) => rememberUser(member.user));
  rememberUser(snapshot.last_message?.sender);
  const old = state.chats.get(snapshot.id);
  const threadReady = state.threads.get(snapshot.id)?.ready ?? false;
  let chat = { ...snapshot, seenAt: Date.now() };
  let behind = false;
  if (old) {
    const fresher = snapshot.version >= old.version;
    chat = fresher ? { ...old, ...snapshot, seenAt: old.seenAt } : old;
    chat.members = (fresher && snapshot.members) || old.members;
    chat.last_seq = Math.max(old.last_seq, snapshot.last_seq);
    chat.last_read_seq = Math.max(old.last_read_seq, snapshot.last_read_seq);
    chat.cleared_seq = Math.max(old.cleared_seq, snapshot.cleared_seq);
    chat.last_message = newerMessage(old.last_message, snapshot.last_message);
    behind = threadReady && snapshot.version > old.version;
    chat.version = behind ? old.version : Math.max(old.version, snapshot.version);
  }
  state.chats.set(chat.id, chat);
  if (snapshot.members) setReads(chat.id, snapshot.members);
  dropCleared(chat);
  return behind;
}

export function removeChat(chatId) {
  for (const key of ['chats', 'threads', 'reads', 'typing']) state[key].delete(chatId);
  if (state.currentChatId === chatId) state.currentChatId = null;
  changed('chats', 'current', 'thread');
}

/**
 * A sync row per chat of ours (initial_data or GET chats/sync, asked for at `askedAt`).
 * Chats missing from it were left or deleted; a moved version means events were missed.
 */
export function applySync(rows, askedAt) {
  const ids = new Set(rows.map((row) => row.id));
  for (const chat of [...state.chats.values()]) {
    if (!ids.has(chat.id) && chat.seenAt < askedAt) removeChat(chat.id);
  }
  for (const row of rows) {
    const chat = state.chats.get(row.id);
    if (!chat) {
      if (state.syncedChatIds && !state.syncedChatIds.has(row.id)) hooks.unknownChat(row.id);
      continue;
    }
    chat.last_read_seq = Math.max(chat.last_read_seq, row.last_read_seq);
    chat.cleared_seq = Math.max(chat.cleared_seq, row.cleared_seq);
    dropCleared(chat);
    if (row.version > chat.version || row.last_seq > chat.last_seq) hooks.gap(row.id);
  }
  state.syncedChatIds = ids;
  changed('chats', 'thread');
}

/** Messages at or below cleared_seq do not exist for us any more. */
function dropCleared(chat) {
  if (chat.last_message && chat.last_message.seq <= chat.cleared_seq) chat.last_message = null;
  const thread = state.threads.get(chat.id);
  if (!thread) return;
  for (const [id, message] of thread.messages) {
    if (message.seq <= chat.cleared_seq) thread.messages.delete(id);
  }
}

// --- Read pointers of the other members -----------------------------------------------------

function setReads(chatId, members) {
  const known = state.reads.get(chatId) ?? new Map();
  const reads = new Map();
  for (const { user, last_read_seq } of members) {
    if (!isMe(user.id)) reads.set(user.id, Math.max(known.get(user.id) ?? 0, last_read_seq));
  }
  state.reads.set(chatId, reads);
}

function moveRead(chatId, userId, seq) {
  if (!state.reads.has(chatId)) state.reads.set(chatId, new Map());
  const reads = state.reads.get(chatId);
  reads.set(userId, Math.max(reads.get(userId) ?? 0, seq));
}

/** Who (other than us) has read up to `seq`. */
export function readersOf(chatId, seq) {
  const reads = state.reads.get(chatId) ?? new Map();
  return [...reads].filter(([, readSeq]) => readSeq >= seq).map(([userId]) => userId);
}

// --- Messages -------------------------------------------------------------------------------

export function threadOf(chatId) {
  if (!state.threads.has(chatId)) {
    state.threads.set(chatId, {
      messages: new Map(),
      ready: false,
      loading: false,
      hasMoreBefore: true,
      loadingOlder: false,
    });
  }
  return state.threads.get(chatId);
}

export function resetThread(chatId) {
  state.threads.delete(chatId);
}

/** Keep the newest state of a message; also the chat's preview and counters. */
export function putMessage(message) {
  const chat = state.chats.get(message.chat_id);
  if (chat && message.seq <= chat.cleared_seq) return;
  rememberUser(message.sender);
  const thread = state.threads.get(message.chat_id);
  const old = thread?.messages.get(message.id);
  if (thread && (!old || old.version <= message.version)) thread.messages.set(message.id, message);
  if (!chat) return;
  chat.last_message = newerMessage(chat.last_message, message);
  chat.last_seq = Math.max(chat.last_seq, message.seq);
  if (isMe(message.sender?.id)) chat.last_read_seq = Math.max(chat.last_read_seq, message.seq);
}

export function sortedMessages(chatId) {
  const thread = state.threads.get(chatId);
  if (!thread) return [];
  return [...thread.messages.values()].sort((a, b) => a.seq - b.seq);
}

export function findMessage(chatId, messageId) {
  return state.threads.get(chatId)?.messages.get(messageId) ?? null;
}

/** A `changes` page: latest states, the version it is complete up to, the cleared seq. */
export function applyChanges(chatId, page) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  chat.cleared_seq = Math.max(chat.cleared_seq, page.cleared_seq ?? 0);
  dropCleared(chat);
  page.messages.forEach(putMessage);
  chat.version = Math.max(chat.version, page.version);
}

function updateReactions(chat, messageId, reactions, version) {
  const thread = state.threads.get(chat.id);
  const message = thread?.messages.get(messageId);
  if (message && message.version < version) {
    thread.messages.set(messageId, { ...message, reactions, version });
  }
  const last = chat.last_message;
  if (last?.id === messageId && last.version < version) {
    chat.last_message = { ...last, reactions, version };
  }
}

// --- Pending sends --------------------------------------------------------------------------

export function pendingFor(chatId) {
  return [...state.outbox.values()].filter((item) => item.chat_id === chatId);
}

export function settlePending(clientId) {
  const item = state.outbox.get(clientId);
  if (!item) return;
  clearTimeout(item.timer);
  if (item.previewUrl) URL.revokeObjectURL(item.previewUrl);
  state.outbox.delete(clientId);
}

// --- Typing ---------------------------------------------------------------------------------

function setTyping(chatId, userId, isTyping, expiresIn) {
  if (!state.typing.has(chatId)) state.typing.set(chatId, new Map());
  const typers = state.typing.get(chatId);
  if (isTyping) typers.set(userId, Date.now() + expiresIn * 1000);
  else typers.delete(userId);
}

/** Ids of the people typing in a chat now (stale entries are dropped). */
export function typersOf(chatId) {
  const typers = state.typing.get(chatId);
  if (!typers) return [];
  const now = Date.now();
  for (const [userId, expiry] of typers) if (expiry <= now) typers.delete(userId);
  return [...typers.keys()];
}

export function nextTypingExpiry() {
  let next = Infinity;
  for (const typers of state.typing.values()) {
    for (const expiry of typers.values()) next = Math.min(next, expiry);
  }
  return next === Infinity ? null : next;
}

// --- Socket events --------------------------------------------------------------------------

// Events that take the chat's next version; the others carry the current one.
const VERSIONED = new Set([
  'new_message',
  'message_updated',
  'message_deleted',
  'reaction_added',
  'reaction_removed',
  'chat_updated',
  'member_added',
  'member_removed',
  'member_updated',
]);

function stepVersion(chat, type, version) {
  if (version == null) return;
  const expected = VERSIONED.has(type) ? chat.version + 1 : chat.version;
  if (version === expected) chat.version = version;
  else if (version > expected) hooks.gap(chat.id);
}

const chatEvents = {
  new_message(event, chat) {
    const { message } = event;
    putMessage(message);
    if (message.sender) state.typing.get(chat.id)?.delete(message.sender.id);
    if (isMe(message.sender?.id) && message.client_id) settlePending(message.client_id);
    return ['chats', 'thread', 'typing'];
  },
  message_updated(event) {
    putMessage(event.message);
    return ['chats', 'thread'];
  },
  message_deleted(event) {
    putMessage(event.message);
    return ['chats', 'thread'];
  },
  reaction_added(event, chat) {
    updateReactions(chat, event.message_id, event.reactions, event.version);
    return ['thread'];
  },
  reaction_removed(event, chat) {
    updateReactions(chat, event.message_id, event.reactions, event.version);
    return ['thread'];
  },
  messages_read(event, chat) {
    if (isMe(event.user_id)) chat.last_read_seq = Math.max(chat.last_read_seq, event.seq);
    else moveRead(chat.id, event.user_id, event.seq);
    return ['chats', 'thread'];
  },
  typing(event, chat) {
    if (!isMe(event.user_id)) setTyping(chat.id, event.user_id, event.is_typing, event.expires_in);
    return ['typing', 'chats'];
  },
  chat_updated(event, chat) {
    for (const field of ['name', 'description', 'avatar', 'members_count']) {
      if (field in event) chat[field] = event[field];
    }
    return ['chats', 'current'];
  },
  member_added(event, chat) {
    rememberUser(event.user);
    moveRead(chat.id, event.user.id, chat.last_seq);
    if (chat.members && !chat.members.some((member) => member.user.id === event.user.id)) {
      const joined_at = new Date().toISOString();
      chat.members.push({ user: event.user, role: event.role, joined_at, last_read_seq: chat.last_seq });
      chat.members_count = chat.members.length;
    }
    return ['chats', 'current'];
  },
  member_removed(event, chat) {
    state.reads.get(chat.id)?.delete(event.user_id);
    if (chat.members) {
      chat.members = chat.members.filter((member) => member.user.id !== event.user_id);
      chat.members_count = chat.members.length;
    }
    return ['chats', 'current'];
  },
  member_updated(event, chat) {
    const member = chat.members?.find((item) => item.user.id === event.user_id);
    if (member) member.role = event.role;
    if (isMe(event.user_id)) chat.my_role = event.role;
    return ['chats', 'current', 'thread'];
  },
};

/** Apply a server event about chats, users or presence (not initial_data/ack/error/resync). */
export function applyEvent(event) {
  if (event.type === 'presence') {
    state.presence.set(event.user_id, { is_online: event.is_online, last_seen: event.last_seen });
    changed('presence', 'chats', 'current');
  } else if (event.type === 'chat_created') {
    if (putChat(event.chat)) hooks.gap(event.chat.id);
    changed('chats', 'current');
  } else if (event.type === 'chat_deleted') {
    removeChat(event.chat_id);
  } else if (chatEvents[event.type]) {
    const chat = state.chats.get(event.chat_id);
    if (!chat) {
      if (event.type !== 'typing') hooks.unknownChat(event.chat_id);
      return;
    }
    const topics = chatEvents[event.type](event, chat);
    stepVersion(chat, event.type, event.version);
    changed(...topics);
  }
}
