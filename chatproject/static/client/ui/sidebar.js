// The left column: who I am, connection state, people search, and the chat list.

import { loadMoreChats, openChat, report, searchUsers, startDirectChat } from '../actions.js';
import { $, avatar, displayName, formatShortDate, h, personNode, reconcile, toast } from '../dom.js';
import { chatTitle, isMe, presenceOf, sortedChats, state, typersOf, unreadOf } from '../store.js';
import { openGroupDialog, openProfile } from './dialogs.js';
import { excerpt } from './message.js';

const SEARCH_DELAY_MS = 250;
const LOAD_MORE_PX = 200;
const CONNECTION_TEXT = { connecting: 'Connecting…', offline: 'Offline, reconnecting…' };

const chatList = $('#chat-list');
const searchInput = $('#user-search');
const results = $('#search-results');
let query = '';
let searchTimer = null;
let searchRound = 0;

export function initSidebar() {
  chatList.addEventListener('click', (event) => {
    const item = event.target.closest('[data-chat-id]');
    if (item) openChat(item.dataset.chatId).catch((error) => toast(error.message));
  });
  chatList.addEventListener('scroll', () => {
    if (chatList.scrollHeight - chatList.scrollTop - chatList.clientHeight < LOAD_MORE_PX) {
      loadMoreChats().catch(report);
    }
  });
  searchInput.addEventListener('input', () => {
    query = searchInput.value.trim();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
    renderChatList();
  });
  searchInput.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') clearSearch();
  });
  results.addEventListener('click', (event) => {
    const person = event.target.closest('[data-user-id]');
    if (person) startChatWith(person.dataset.userId);
  });
  $('#new-group-button').addEventListener('click', openGroupDialog);
  $('#me-button').addEventListener('click', openProfile);
}

export function renderSidebar(topics) {
  if (topics.has('me')) renderMe();
  if (topics.has('connection')) renderConnection();
  if (['chats', 'current', 'typing', 'presence', 'me'].some((topic) => topics.has(topic))) {
    renderChatList();
  }
}

function renderMe() {
  const me = state.me;
  $('#me-button').replaceChildren(
    me ? avatar(displayName(me), me.avatar, me.id, 'small') : '',
    h('span', { class: 'me-name', text: me ? displayName(me) : '' }),
  );
}

function renderConnection() {
  const status = $('#connection-status');
  status.hidden = state.connection === 'online';
  status.textContent = CONNECTION_TEXT[state.connection] ?? '';
}

// --- Search ---------------------------------------------------------------------------------

function clearSearch() {
  searchInput.value = '';
  query = '';
  searchRound += 1;
  results.hidden = true;
  results.replaceChildren();
  renderChatList();
}

async function runSearch() {
  const round = ++searchRound;
  if ([...query].length < 2) {
    results.hidden = true;
    results.replaceChildren();
    return;
  }
  try {
    const users = await searchUsers(query);
    if (round === searchRound) renderResults(users);
  } catch (error) {
    toast(error.message);
  }
}

function renderResults(users) {
  results.hidden = false;
  results.replaceChildren(
    h('h2', { text: 'People' }),
    users.length
      ? h('ul', {}, users.map((user) => h('li', {}, personNode('button', user, `@${user.username}`, { dataset: { userId: user.id } }))))
      : h('p', { class: 'muted', text: 'No one found.' }),
  );
}

async function startChatWith(userId) {
  try {
    const chatId = await startDirectChat(userId);
    clearSearch();
    await openChat(chatId);
  } catch (error) {
    toast(error.message);
  }
}

// --- Chat list ------------------------------------------------------------------------------

function previewOf(chat) {
  const message = chat.last_message;
  if (!message) return chat.type === 'group' ? 'Group created' : 'No messages yet';
  if (message.type === 'system') return message.content;
  if (message.is_deleted) return 'Message deleted';
  const kind = { image: 'Photo', video: 'Video', file: 'File' }[message.type];
  const caption = message.content || (message.type === 'file' && message.attachment?.name);
  const text = [kind, caption].filter(Boolean).join(': ') || excerpt(message);
  if (isMe(message.sender?.id)) return `You: ${text}`;
  if (chat.type === 'group' && message.sender) return `${displayName(message.sender)}: ${text}`;
  return text;
}

/** What one row shows; a row is rebuilt only when this changes (clicks land on stable rows). */
function rowOf(chat) {
  const other = chat.other_user && state.users.get(chat.other_user.id);
  return {
    title: chatTitle(chat),
    picture: chat.type === 'group' ? chat.avatar : other?.avatar,
    online: Boolean(other && presenceOf(other.id).is_online),
    typing: typersOf(chat.id).length > 0,
    unread: unreadOf(chat),
    preview: previewOf(chat),
    time: formatShortDate(chat.last_message?.created_at ?? chat.created_at),
    active: chat.id === state.currentChatId,
  };
}

function chatItem(chat, row) {
  const picture = avatar(row.title, row.picture, chat.id);
  if (row.online) picture.append(h('span', { class: 'online-dot', title: 'online' }));
  const classes = ['chat-item', row.active && 'active', row.unread && 'unread'];
  return h(
    'li',
    { class: classes.filter(Boolean).join(' '), testid: 'chat-item', dataset: { chatId: chat.id } },
    h(
      'button',
      { type: 'button', class: 'chat-row' },
      picture,
      h(
        'span',
        { class: 'chat-text' },
        h(
          'span',
          { class: 'chat-line' },
          h('strong', { class: 'chat-name', text: row.title }),
          h('time', { class: 'chat-time', text: row.time }),
        ),
        h(
          'span',
          { class: 'chat-line' },
          h('span', { class: row.typing ? 'chat-preview typing' : 'chat-preview', text: row.typing ? 'typing…' : row.preview }),
          row.unread > 0 &&
            h('span', { class: 'badge', testid: 'unread-badge', text: row.unread > 99 ? '99+' : String(row.unread) }),
        ),
      ),
    ),
  );
}

const rows = new Map(); // chat id -> {key, el}

function cachedItem(chat) {
  const row = rowOf(chat);
  const key = JSON.stringify(row);
  const cached = rows.get(chat.id);
  if (cached?.key === key) return cached.el;
  const el = chatItem(chat, row);
  rows.set(chat.id, { key, el });
  return el;
}

function renderChatList() {
  const needle = query.toLowerCase();
  const chats = sortedChats().filter((chat) => !needle || chatTitle(chat).toLowerCase().includes(needle));
  const items = chats.map(cachedItem);
  if (!items.length && state.chatsCursor !== undefined) {
    const text = needle ? 'No chats match.' : 'No chats yet. Search for someone to start one.';
    items.push(h('li', { class: 'muted empty', text }));
  }
  reconcile(chatList, items);
  for (const chatId of rows.keys()) if (!state.chats.has(chatId)) rows.delete(chatId);
  const unread = [...state.chats.values()].reduce((sum, chat) => sum + unreadOf(chat), 0);
  document.title = unread ? `(${unread}) Chat` : 'Chat';
}
