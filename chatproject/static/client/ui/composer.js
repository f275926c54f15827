// Writing: Enter sends, Shift+Enter breaks the line; replies, edits, and a file with a
// preview before it is sent (picked, pasted or dropped). Drafts are kept per chat.

import { editMessage, noteTyping, sendFile, sendText, stopTyping } from '../actions.js';
import { config } from '../api.js';
import { $, displayName, formatBytes, h, toast } from '../dom.js';
import { icon } from '../icons.js';
import { isMe, sortedMessages } from '../store.js';
import { excerpt } from './message.js';

const form = $('#composer');
const input = $('#message-input');
const fileInput = $('#file-input');
const contextBar = $('#composer-context');
const previewBox = $('#attachment-preview');
const drafts = new Map();
let chatId = null;
let mode = null; // {kind: 'reply' | 'edit', message}
let attachment = null; // {file, url}

export function initComposer({ onSent }) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (submit()) onSent();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === 'Escape') {
      clearMode();
    } else if (event.key === 'ArrowUp' && !input.value) {
      editLastOwn(event);
    }
  });
  input.addEventListener('input', () => {
    if (mode?.kind === 'edit') return;
    if (input.value.trim()) noteTyping(chatId);
    else stopTyping();
  });
  input.addEventListener('blur', stopTyping);
  input.addEventListener('paste', (event) => {
    const file = event.clipboardData?.files[0];
    if (file) {
      event.preventDefault();
      setAttachment(file);
    }
  });
  fileInput.addEventListener('change', () => {
    if (fileInput.files[0]) setAttachment(fileInput.files[0]);
    fileInput.value = '';
  });
  const dropZone = $('#chat-view');
  dropZone.addEventListener('dragover', (event) => {
    if (event.dataTransfer.types.includes('Files')) event.preventDefault();
  });
  dropZone.addEventListener('drop', (event) => {
    const file = event.dataTransfer.files[0];
    if (file) {
      event.preventDefault();
      setAttachment(file);
    }
  });
}

/** Called on every render: keeps one draft per chat and forgets replies across chats. */
export function switchChat(nextChatId) {
  if (nextChatId === chatId) return;
  if (chatId) drafts.set(chatId, input.value);
  chatId = nextChatId;
  input.value = drafts.get(chatId) ?? '';
  clearMode();
  clearAttachment();
  if (chatId && matchMedia('(pointer: fine)').matches) input.focus();
}

function submit() {
  if (!chatId) return false;
  const editing = mode?.kind === 'edit';
  if (!(editing ? saveEdit(input.value) : send(input.value))) return false;
  if (editing) {
    input.value = drafts.get(chatId) ?? '';
  } else {
    input.value = '';
    drafts.delete(chatId);
  }
  clearMode();
  clearAttachment();
  input.focus();
  return true;
}

function saveEdit(text) {
  if (!text.trim()) {
    toast('A message cannot be empty.');
    return false;
  }
  if (text !== mode.message.content) editMessage(mode.message, text).catch((error) => toast(error.message));
  return true;
}

function send(text) {
  const replyTo = mode?.kind === 'reply' ? mode.message : null;
  if ([...text].length > config.limits.message_length) {
    toast(`A message holds at most ${config.limits.message_length} characters.`);
    return false;
  }
  if (attachment) sendFile(chatId, attachment.file, text, replyTo);
  else if (text.trim()) sendText(chatId, text, replyTo);
  else return false;
  return true;
}

// --- Reply and edit -------------------------------------------------------------------------

export function startReply(message) {
  setMode({ kind: 'reply', message }, `Replying to ${displayName(message.sender)}`);
}

export function startEdit(message) {
  if (mode?.kind !== 'edit') drafts.set(chatId, input.value);
  setMode({ kind: 'edit', message }, 'Editing message');
  input.value = message.content;
}

function editLastOwn(event) {
  const own = sortedMessages(chatId).findLast(
    (message) => isMe(message.sender?.id) && message.type === 'text' && !message.is_deleted,
  );
  if (!own) return;
  event.preventDefault();
  startEdit(own);
}

function setMode(nextMode, label) {
  if (mode?.kind === 'edit') input.value = drafts.get(chatId) ?? '';
  mode = nextMode;
  contextBar.replaceChildren(
    h('span', { class: 'context-label' }, h('strong', { text: label }), h('span', { text: excerpt(mode.message) })),
    h('button', { type: 'button', class: 'icon-button', title: 'Cancel', 'aria-label': 'Cancel', onclick: cancelMode }, icon('close')),
  );
  contextBar.hidden = false;
  input.focus();
}

function cancelMode() {
  if (mode?.kind === 'edit') input.value = drafts.get(chatId) ?? '';
  clearMode();
}

function clearMode() {
  mode = null;
  contextBar.hidden = true;
  contextBar.replaceChildren();
}

// --- Attachment -----------------------------------------------------------------------------

function setAttachment(file) {
  if (file.size > config.limits.upload_bytes) {
    toast(`Files can be at most ${formatBytes(config.limits.upload_bytes)}.`);
    return;
  }
  clearAttachment();
  const url = URL.createObjectURL(file);
  attachment = { file, url };
  let preview = icon('file');
  if (file.type.startsWith('image/')) preview = h('img', { src: url, alt: '' });
  else if (file.type.startsWith('video/')) preview = h('video', { src: url, muted: true });
  previewBox.replaceChildren(
    preview,
    h('span', { class: 'preview-name' }, h('strong', { text: file.name }), h('span', { text: formatBytes(file.size) })),
    h('button', { type: 'button', class: 'icon-button', title: 'Remove', 'aria-label': 'Remove file', onclick: clearAttachment }, icon('close')),
  );
  previewBox.hidden = false;
  input.placeholder = 'Add a caption';
  input.focus();
}

function clearAttachment() {
  if (attachment) URL.revokeObjectURL(attachment.url);
  attachment = null;
  previewBox.hidden = true;
  previewBox.replaceChildren();
  input.placeholder = 'Message';
}
