// Entry point: restore the tab's session or show the login, wire the views to the store,
// and render what changed once per animation frame.

import * as api from './api.js';
import { endSession, report, socket, startSession } from './actions.js';
import { drawIcons } from './icons.js';
import { changed, nextTypingExpiry, subscribe } from './store.js';
import { hideAuth, initAuth, showAuth } from './ui/auth.js';
import { initComposer } from './ui/composer.js';
import { initConversation, renderConversation, scrollToLatest } from './ui/conversation.js';
import { initSidebar, renderSidebar } from './ui/sidebar.js';

const dirty = new Set();
let frame = 0;
let typingTimer = null;

subscribe((topics) => {
  topics.forEach((topic) => dirty.add(topic));
  frame ||= requestAnimationFrame(render);
});

function render() {
  frame = 0;
  const topics = new Set(dirty);
  dirty.clear();
  renderSidebar(topics);
  renderConversation(topics);
  expireTypingLater();
}

/** "X is typing" disappears when its expires_in runs out, without any further event. */
function expireTypingLater() {
  clearTimeout(typingTimer);
  const next = nextTypingExpiry();
  if (next) typingTimer = setTimeout(() => changed('typing', 'chats'), Math.max(0, next - Date.now()) + 50);
}

function enterApp(user) {
  hideAuth();
  startSession(user);
}

async function boot() {
  drawIcons();
  initAuth({ onSignedIn: enterApp });
  initSidebar();
  initConversation();
  initComposer({ onSent: scrollToLatest });
  api.onSessionEnded(({ byUser }) => {
    endSession();
    showAuth(byUser ? '' : 'Your session has ended. Please sign in again.');
  });
  window.addEventListener('online', () => socket.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    api.refreshIfDue();
    socket.reconnectNow();
  });
  await api.loadConfig().catch(report);
  if (!api.hasSession()) {
    showAuth();
    return;
  }
  try {
    enterApp(await api.get('users/me'));
  } catch (error) {
    if (error instanceof api.SessionEnded) return;
    report(error);
    enterApp(null);
  }
}

boot();
