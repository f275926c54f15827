// Small DOM and formatting helpers. User text only ever reaches the page as text nodes.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter((child) => child != null && child !== false));
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Put exactly `nodes` into `parent`, in order, moving existing nodes instead of rebuilding. */
export function reconcile(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/** Text with http(s) links made clickable; everything else stays a text node. */
export function richText(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING_PUNCTUATION, '');
    fragment.append(text.slice(last, match.index));
    fragment.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: url }));
    last = match.index + url.length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

export function displayName(user) {
  if (!user) return 'Deleted account';
  return user.full_name || user.username;
}

function initials(name) {
  const letters = name.trim().split(/\s+/).slice(0, 2).map((word) => [...word][0] ?? '');
  return letters.join('').toUpperCase() || '?';
}

/** A round avatar: the picture if there is one, else initials on a colour taken from `key`. */
export function avatar(name, url, key, size = '') {
  const hue = [...String(key)].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) % 360, 7);
  const el = h('span', { class: `avatar hue-${Math.floor(hue / 30)} ${size}`, 'aria-hidden': 'true' });
  if (url) el.append(h('img', { src: url, alt: '' }));
  else el.textContent = initials(name);
  return el;
}

/** A person: avatar, name and a second line, as a `tag` element (a button to pick them). */
export function personNode(tag, user, detail, props = {}) {
  return h(
    tag,
    { class: 'person', ...(tag === 'button' && { type: 'button' }), ...props },
    avatar(displayName(user), user.avatar, user.id, 'small'),
    h('span', { class: 'person-text' }, h('strong', { text: displayName(user) }), detail),
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullDateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const DAY_MS = 86_400_000;

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function formatTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : '';
}

/** Time of day for today, weekday within a week, else the date: for the chat list. */
export function formatShortDate(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const days = (startOfDay(new Date()) - startOfDay(date)) / DAY_MS;
  if (days < 1) return timeFormat.format(date);
  if (days < 7) return weekdayFormat.format(date);
  return dateFormat.format(date);
}

export function dayKey(iso) {
  return new Date(iso).toDateString();
}

export function formatDay(iso) {
  const days = Math.round((startOfDay(new Date()) - startOfDay(new Date(iso))) / DAY_MS);
  if (days === 0 || days === 1) {
    const word = relativeFormat.format(-days, 'day');
    return word[0].toUpperCase() + word.slice(1);
  }
  return fullDateFormat.format(new Date(iso));
}

export function formatLastSeen(iso) {
  if (!iso) return 'offline';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'last seen just now';
  if (seconds < 3600) return `last seen ${relativeFormat.format(-Math.floor(seconds / 60), 'minute')}`;
  if (seconds < DAY_MS / 1000) {
    return `last seen ${relativeFormat.format(-Math.floor(seconds / 3600), 'hour')}`;
  }
  return `last seen ${dateFormat.format(new Date(iso))}`;
}

export function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

let toastTimer = null;

export function toast(message) {
  const el = $('#toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}
