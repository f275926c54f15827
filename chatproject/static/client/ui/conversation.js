// The open chat: header, message history (older pages on scroll), typing line, actions.

import {
  deleteMessage,
  discardSend,
  loadOlder,
  markRead,
  openChat,
  refreshLink,
  retrySend,
  toggleReaction,
} from '../actions.js';
import { $, avatar, dayKey, formatLastSeen, h, reconcile, toast } from '../dom.js';
import { icon } from '../icons.js';
import {
  chatTitle,
  findMessage,
  isMe,
  pendingFor,
  presenceOf,
  readersOf,
  sortedMessages,
  state,
  typersOf,
  unreadOf,
} from '../store.js';
import { startEdit, startReply, switchChat } from './composer.js';
import { openChatInfo } from './dialogs.js';
import { dayNode, emojiPicker, messageNode, nameOf, pendingNode } from './message.js';

const BOTTOM_SLACK_PX = 48;
const LOAD_OLDER_PX = 300;

const list = $('#message-list');
const typingSlot = $('#typing-slot');
const jumpButton = $('#jump-latest');
const rendered = new Map(); // message id -> {message, view, el}
const dayNodes = new Map(); // day -> divider
const picker = emojiPicker();
const loadingNode = h('div', { class: 'history-note', text: 'Loading…' });
const startNode = h('div', { class: 'history-note', text: 'This is the beginning of the conversation.' });
let renderedChatId = null;

export function initConversation() {
  list.addEventListener('scroll', onScroll, { passive: true });
  list.addEventListener('click', onListClick);
  list.addEventListener('error', onMediaError, true);
  document.addEventListener('click', (event) => {
    if (!picker.contains(event.target) && !event.target.closest('[data-action="react"]')) picker.remove();
  });
  $('#back-button').addEventListener('click', () => openChat(null));
  $('#chat-title').addEventListener('click', () => {
    if (state.currentChatId) openChatInfo(state.currentChatId);
  });
  jumpButton.addEventListener('click', scrollToLatest);
  document.addEventListener('visibilitychange', markReadIfSeen);
  window.addEventListener('focus', markReadIfSeen);
}

export function renderConversation(topics) {
  const chat = state.chats.get(state.currentChatId);
  document.body.classList.toggle('chat-open', Boolean(chat));
  $('#empty-state').hidden = Boolean(chat);
  $('#chat-view').hidden = !chat;
  switchChat(chat?.id ?? null);
  if (!chat) {
    renderedChatId = null;
    return;
  }
  if (topics.has('current') || topics.has('chats') || topics.has('presence')) renderHeader(chat);
  if (topics.has('current') || topics.has('thread') || renderedChatId !== chat.id) renderMessages(chat);
  if (topics.has('current') || topics.has('typing')) renderTyping(chat);
  if (topics.has('chats') || topics.has('thread')) renderJumpButton(chat);
}

// --- Header ---------------------------------------------------------------------------------

function subtitleOf(chat) {
  if (chat.type === 'direct') {
    if (!chat.other_user) return '';
    const presence = presenceOf(chat.other_user.id);
    return presence.is_online ? 'online' : formatLastSeen(presence.last_seen);
  }
  const members = `${chat.members_count} member${chat.members_count === 1 ? '' : 's'}`;
  const online = chat.members?.filter((member) => presenceOf(member.user.id).is_online).length;
  return online ? `${members}, ${online} online` : members;
}

function renderHeader(chat) {
  const other = chat.other_user && state.users.get(chat.other_user.id);
  const picture = chat.type === 'group' ? chat.avatar : other?.avatar;
  $('#chat-title').replaceChildren(
    avatar(chatTitle(chat), picture, chat.id),
    h(
      'span',
      { class: 'title-text' },
      h('strong', { text: chatTitle(chat) }),
      h('span', { class: 'subtitle', text: subtitleOf(chat) }),
    ),
  );
}

// --- Messages -------------------------------------------------------------------------------

function isAtBottom() {
  return list.scrollHeight - list.scrollTop - list.clientHeight < BOTTOM_SLACK_PX;
}

export function scrollToLatest() {
  list.scrollTop = list.scrollHeight;
}

/** The first message in view and where it is, to keep it still while the list changes. */
function captureAnchor() {
  for (const el of list.querySelectorAll('[data-id]')) {
    if (el.offsetTop + el.offsetHeight > list.scrollTop) return { el, top: el.offsetTop - list.scrollTop };
  }
  return null;
}

function viewOf(message, previous, chat, lastMine) {
  const sameRun =
    previous &&
    previous.type !== 'system' &&
    previous.sender?.id === message.sender?.id &&
    dayKey(previous.created_at) === dayKey(message.created_at);
  let receipt = null;
  if (message === lastMine) receipt = readersOf(chat.id, message.seq).length ? 'read' : 'sent';
  return {
    runStart: !sameRun,
    showSender: chat.type === 'group' && !sameRun,
    receipt,
    canDelete: chat.type === 'group' && chat.my_role === 'admin',
    replyName: message.reply_to ? nameOf(message.reply_to.sender_id) : null,
  };
}

function cachedNode(message, view) {
  const key = JSON.stringify(view);
  const cached = rendered.get(message.id);
  if (cached && cached.message === message && cached.key === key) return cached.el;
  const el = messageNode(message, view);
  rendered.set(message.id, { message, key, el });
  return el;
}

function cachedDay(iso) {
  const key = dayKey(iso);
  if (!dayNodes.has(key)) dayNodes.set(key, dayNode(iso));
  return dayNodes.get(key);
}

function renderMessages(chat) {
  const switched = renderedChatId !== chat.id;
  if (switched) {
    rendered.clear();
    list.replaceChildren();
    renderedChatId = chat.id;
  }
  const stick = switched || isAtBottom();
  const anchor = stick ? null : captureAnchor();
  const thread = state.threads.get(chat.id);
  const messages = sortedMessages(chat.id);
  const lastMine = messages.findLast((message) => isMe(message.sender?.id) && !message.is_deleted);
  const nodes = [];
  if (thread?.loading || thread?.loadingOlder) nodes.push(loadingNode);
  else if (thread?.ready && !thread.hasMoreBefore) nodes.push(startNode);
  let previous = null;
  for (const message of messages) {
    if (!previous || dayKey(previous.created_at) !== dayKey(message.created_at)) {
      nodes.push(cachedDay(message.created_at));
    }
    nodes.push(cachedNode(message, viewOf(message, previous, chat, lastMine)));
    previous = message;
  }
  nodes.push(...pendingFor(chat.id).map(pendingNode));
  reconcile(list, nodes);
  if (stick) scrollToLatest();
  else if (anchor?.el.isConnected) list.scrollTop = anchor.el.offsetTop - anchor.top;
  afterScrollChange();
}

function onScroll() {
  afterScrollChange();
  renderJumpButton(state.chats.get(state.currentChatId));
}

/** Older history near the top; read receipts once the latest message is in view. */
function afterScrollChange() {
  const chatId = renderedChatId;
  if (!chatId) return;
  if (list.scrollTop < LOAD_OLDER_PX) loadOlder(chatId).catch((error) => toast(error.message));
  markReadIfSeen();
}

function markReadIfSeen() {
  if (renderedChatId && isAtBottom() && document.visibilityState === 'visible') markRead(renderedChatId);
}

function renderJumpButton(chat) {
  if (!chat) return;
  const unread = unreadOf(chat);
  jumpButton.hidden = isAtBottom();
  jumpButton.replaceChildren(icon('down'), unread ? h('span', { text: String(unread) }) : '');
}

// --- Typing ---------------------------------------------------------------------------------

function typingText(names) {
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** The indicator exists only while someone is typing (tests and screen readers rely on it). */
function renderTyping(chat) {
  const names = typersOf(chat.id).map(nameOf);
  if (!names.length) {
    typingSlot.replaceChildren();
    return;
  }
  let indicator = typingSlot.firstElementChild;
  if (!indicator) {
    indicator = h('div', { class: 'typing-indicator', testid: 'typing-indicator', 'aria-live': 'polite' });
    typingSlot.append(indicator);
  }
  indicator.textContent = typingText(names);
}

// --- Message actions ------------------------------------------------------------------------

function onListClick(event) {
  const button = event.target.closest('[data-action]');
  const article = event.target.closest('[data-testid="message-item"]');
  if (!button) {
    article?.classList.toggle('show-actions');
    return;
  }
  const { action } = button.dataset;
  if (action === 'retry') return retrySend(article.dataset.clientId);
  if (action === 'discard') return discardSend(article.dataset.clientId);
  if (action === 'quote') return showMessage(Number(button.dataset.target));
  const message = article && findMessage(renderedChatId, Number(article.dataset.id));
  if (message) runAction(action, message, button, article);
}

function runAction(action, message, button, article) {
  const failed = (error) => toast(error.message);
  if (action === 'reply') startReply(message);
  else if (action === 'edit') startEdit(message);
  else if (action === 'react') article.append(picker);
  else if (action === 'pick-emoji' || action === 'toggle-reaction') {
    picker.remove();
    toggleReaction(message, button.dataset.emoji).catch(failed);
  } else if (action === 'delete' && confirm('Delete this message for everyone?')) {
    deleteMessage(message).catch(failed);
  }
}

function showMessage(messageId) {
  const el = rendered.get(messageId)?.el;
  if (!el?.isConnected) {
    toast('That message is further back in the history.');
    return;
  }
  el.scrollIntoView({ block: 'center', behavior: 'smooth' });
  el.classList.add('flash');
  el.addEventListener('animationend', () => el.classList.remove('flash'), { once: true });
}

function onMediaError(event) {
  if (!['IMG', 'VIDEO'].includes(event.target.tagName)) return;
  const article = event.target.closest('[data-testid="message-item"]');
  if (article?.dataset.id) refreshLink(renderedChatId, Number(article.dataset.id));
}
