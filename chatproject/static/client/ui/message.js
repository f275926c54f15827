// One message (or pending send) as DOM. Buttons carry data-action; the list handles clicks.

import { displayName, formatBytes, formatDay, formatTime, h, richText } from '../dom.js';
import { icon } from '../icons.js';
import { isMe, state } from '../store.js';

const QUICK_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥'];

export function nameOf(userId) {
  const user = state.users.get(userId);
  return user ? displayName(user) : 'Someone';
}

export function excerpt(message) {
  if (message.is_deleted) return 'Deleted message';
  if (message.content) return message.content.slice(0, 200);
  return { image: 'Photo', video: 'Video', file: 'File' }[message.type] ?? '';
}

function actionButton(action, title, label = icon(action)) {
  return h('button', { type: 'button', class: 'action', title, 'aria-label': title, dataset: { action } }, label);
}

function replyQuote(reply, senderName) {
  return h(
    'button',
    { type: 'button', class: 'reply-quote', dataset: { action: 'quote', target: reply.id } },
    h('strong', { text: senderName }),
    h('span', { text: excerpt(reply) }),
  );
}

function attachmentNode(message) {
  const file = message.attachment;
  if (!file) return null;
  const size = { width: file.width ?? undefined, height: file.height ?? undefined };
  if (message.type === 'image') {
    return h(
      'a',
      { class: 'attachment image', href: file.url, target: '_blank', rel: 'noopener' },
      h('img', { src: file.url, alt: file.name, loading: 'lazy', ...size }),
    );
  }
  if (message.type === 'video') {
    return h('video', { class: 'attachment video', src: file.url, controls: true, preload: 'metadata', ...size });
  }
  return h(
    'a',
    { class: 'attachment file', href: file.url, download: file.name },
    icon('file'),
    h('span', { class: 'file-name', text: file.name }),
    h('span', { class: 'file-size', text: formatBytes(file.size) }),
  );
}

function reactionsNode(message) {
  if (!message.reactions.length) return null;
  return h(
    'div',
    { class: 'reactions' },
    message.reactions.map((reaction) =>
      h(
        'button',
        {
          type: 'button',
          class: reaction.user_ids.some(isMe) ? 'reaction mine' : 'reaction',
          title: reaction.user_ids.map(nameOf).join(', '),
          dataset: { action: 'toggle-reaction', emoji: reaction.emoji },
        },
        `${reaction.emoji} ${reaction.count}`,
      ),
    ),
  );
}

function metaNode(message, receipt) {
  const created = new Date(message.created_at);
  return h(
    'div',
    { class: 'meta' },
    message.edited_at && !message.is_deleted && h('span', { class: 'edited', text: 'edited' }),
    h('time', { datetime: message.created_at, title: created.toLocaleString(), text: formatTime(message.created_at) }),
    receipt &&
      h('span', {
        class: `receipt ${receipt}`,
        testid: 'read-receipt',
        text: receipt === 'read' ? '✓✓ Read' : '✓ Sent',
      }),
  );
}

/**
 * view: {runStart, showSender, receipt: 'read' | 'sent' | null, canDelete, replyName}. The element is
 * rebuilt whenever the message object or the view changes.
 */
export function messageNode(message, view) {
  const dataset = { id: message.id, seq: message.seq };
  if (message.type === 'system') {
    return h('div', { class: 'system-message', testid: 'message-item', dataset }, message.content);
  }
  const mine = isMe(message.sender?.id);
  const body = message.is_deleted
    ? h('p', { class: 'text deleted', text: 'This message was deleted' })
    : [attachmentNode(message), message.content && h('p', { class: 'text' }, richText(message.content))];
  const actions =
    !message.is_deleted &&
    h(
      'div',
      { class: 'message-actions' },
      actionButton('reply', 'Reply'),
      actionButton('react', 'React'),
      mine && message.type === 'text' && actionButton('edit', 'Edit'),
      (mine || view.canDelete) && actionButton('delete', 'Delete'),
    );
  return h(
    'article',
    { class: `message ${mine ? 'mine' : 'theirs'}${view.runStart ? ' run-start' : ''}`, testid: 'message-item', dataset },
    h(
      'div',
      { class: 'bubble' },
      view.showSender && !mine && h('div', { class: 'sender', text: displayName(message.sender) }),
      message.reply_to && replyQuote(message.reply_to, view.replyName),
      body,
      metaNode(message, view.receipt),
    ),
    reactionsNode(message),
    actions,
  );
}

const PENDING_STATUS = { sending: 'Sending…', waiting: 'Waiting to send…', failed: 'Not sent' };

export function pendingNode(item) {
  const preview = item.previewUrl
    ? h('img', { class: 'attachment image', src: item.previewUrl, alt: item.file.name })
    : item.file && h('span', { class: 'attachment file' }, icon('file'), h('span', { class: 'file-name', text: item.file.name }));
  return h(
    'article',
    { class: `message mine pending ${item.status}`, testid: 'message-item', dataset: { clientId: item.client_id } },
    h(
      'div',
      { class: 'bubble' },
      item.reply_to && replyQuote(item.reply_to, displayName(item.reply_to.sender)),
      preview,
      item.content && h('p', { class: 'text' }, richText(item.content)),
      item.file && item.status === 'sending' && h('progress', { max: 1, value: item.progress ?? undefined }),
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'status', text: PENDING_STATUS[item.status] }),
        item.error && h('span', { class: 'error', text: item.error }),
        item.status === 'failed' && actionButton('retry', 'Send again', 'Retry'),
        item.status === 'failed' && actionButton('discard', 'Discard', 'Discard'),
      ),
    ),
  );
}

export function dayNode(iso) {
  return h('div', { class: 'day-divider' }, h('span', { text: formatDay(iso) }));
}

export function emojiPicker() {
  return h(
    'div',
    { class: 'emoji-picker', role: 'menu' },
    QUICK_EMOJI.map((emoji) =>
      h('button', { type: 'button', role: 'menuitem', dataset: { action: 'pick-emoji', emoji } }, emoji),
    ),
  );
}
