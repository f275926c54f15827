// Modal panels: a new group, a chat's info and members, one's own profile.

import {
  addMembers,
  createGroup,
  deleteChat,
  leaveGroup,
  openChat,
  refreshChat,
  removeMember,
  removeMyAvatar,
  report,
  searchUsers,
  setGroupAvatar,
  setMemberRole,
  setMyAvatar,
  updateGroup,
  updateProfile,
} from '../actions.js';
import { logout } from '../api.js';
import { avatar, displayName, formatLastSeen, h, personNode, toast } from '../dom.js';
import { icon } from '../icons.js';
import { chatTitle, isMe, presenceOf, state } from '../store.js';

const SEARCH_DELAY_MS = 250;

function showDialog(title, content) {
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-label': title },
    h(
      'header',
      { class: 'dialog-header' },
      h('h2', { text: title }),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('close')),
    ),
    h('div', { class: 'dialog-body' }, content),
  );
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

function field(label, control) {
  return h('label', { class: 'field' }, h('span', { text: label }), control);
}

function formError() {
  return h('p', { class: 'form-error', role: 'alert' });
}

/** Run `work`; show its error in `errorEl` (or a toast) instead of throwing. */
async function attempt(work, errorEl = null) {
  try {
    if (errorEl) errorEl.textContent = '';
    await work();
    return true;
  } catch (error) {
    report(error);
    if (errorEl) errorEl.textContent = error.message;
    else toast(error.message);
    return false;
  }
}

/** Search people and collect a selection (shown as removable chips). */
function memberPicker(excluded = new Set()) {
  const selected = new Map();
  const chips = h('div', { class: 'chips' });
  const found = h('ul', { class: 'picker-results' });
  const search = h('input', { type: 'search', placeholder: 'Add people by name or username', autocomplete: 'off' });
  let timer = null;
  let round = 0;

  function renderChips() {
    chips.replaceChildren(
      ...[...selected.values()].map((user) =>
        h('button', { type: 'button', class: 'chip', title: 'Remove', onclick: () => toggle(user) }, displayName(user), icon('close')),
      ),
    );
  }

  function toggle(user) {
    if (selected.has(user.id)) selected.delete(user.id);
    else selected.set(user.id, user);
    renderChips();
    found.replaceChildren();
    search.value = '';
    search.focus();
  }

  async function lookUp(query, thisRound) {
    const users = await searchUsers(query).catch(() => []);
    if (thisRound !== round) return;
    const choices = users.filter((user) => !excluded.has(user.id) && !selected.has(user.id));
    found.replaceChildren(
      ...choices.map((user) =>
        h('li', {}, personNode('button', user, `@${user.username}`, { onclick: () => toggle(user) })),
      ),
    );
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    const thisRound = ++round;
    const query = search.value.trim();
    if ([...query].length < 2) found.replaceChildren();
    else timer = setTimeout(() => lookUp(query, thisRound), SEARCH_DELAY_MS);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault();
  });
  return {
    el: h('div', { class: 'picker' }, chips, search, found),
    ids: () => [...selected.keys()],
  };
}

// --- New group ------------------------------------------------------------------------------

export function openGroupDialog() {
  const name = h('input', { name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const description = h('textarea', { name: 'description', maxlength: 1000, rows: 2 });
  const picker = memberPicker();
  const error = formError();
  const form = h(
    'form',
    { class: 'dialog-form' },
    field('Name', name),
    field('Description (optional)', description),
    h('div', { class: 'field' }, h('span', { text: 'Members' }), picker.el),
    error,
    h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit' }, 'Create group')),
  );
  const dialog = showDialog('New group', form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let chatId = null;
    const created = await attempt(async () => {
      chatId = await createGroup({ name: name.value, description: description.value, memberIds: picker.ids() });
    }, error);
    if (!created) return;
    dialog.close();
    openChat(chatId).catch(report);
  });
  name.focus();
}

// --- Chat info ------------------------------------------------------------------------------

/** Drawn once the chat is re-read (members, roles), so a late redraw never eats typing. */
export function openChatInfo(chatId) {
  const body = h('div', {}, h('p', { class: 'muted', text: 'Loading…' }));
  const dialog = showDialog('Chat info', body);
  const render = () => {
    const chat = state.chats.get(chatId);
    if (!chat) {
      dialog.close();
      return;
    }
    body.replaceChildren(chat.type === 'group' ? groupInfo(chat, render, dialog) : directInfo(chat, dialog));
  };
  refreshChat(chatId).catch(report).finally(render);
}

function directInfo(chat, dialog) {
  const user = chat.other_user ? state.users.get(chat.other_user.id) : null;
  const presence = user && presenceOf(user.id);
  const remove = async () => {
    if (!confirm('Delete this chat and its history for you? It comes back if a new message arrives.')) return;
    if (await attempt(() => deleteChat(chat.id))) dialog.close();
  };
  return h(
    'div',
    { class: 'info' },
    h(
      'div',
      { class: 'info-head' },
      avatar(chatTitle(chat), user?.avatar, chat.id, 'large'),
      h('strong', { text: chatTitle(chat) }),
      user && h('span', { class: 'muted', text: `@${user.username}` }),
      presence && h('span', { class: 'muted', text: presence.is_online ? 'online' : formatLastSeen(presence.last_seen) }),
    ),
    user?.status && h('p', { class: 'status-line', text: user.status }),
    user?.bio && h('p', { class: 'bio', text: user.bio }),
    h('div', { class: 'dialog-buttons' }, h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete chat')),
  );
}

function groupInfo(chat, render, dialog) {
  const admin = chat.my_role === 'admin';
  return h(
    'div',
    { class: 'info' },
    h(
      'div',
      { class: 'info-head' },
      avatar(chat.name, chat.avatar, chat.id, 'large'),
      admin && fileButton('Change picture', 'image/*', (file) => attempt(() => setGroupAvatar(chat.id, file)).then(render)),
    ),
    admin ? groupForm(chat) : [h('strong', { text: chat.name }), chat.description && h('p', { class: 'bio', text: chat.description })],
    h('h3', { text: `${chat.members_count} members` }),
    admin && addMembersForm(chat, render),
    h('ul', { class: 'members' }, sortedMembers(chat).map((member) => memberRow(chat, member, render))),
    h('div', { class: 'dialog-buttons' }, ...groupExits(chat, admin, dialog)),
  );
}

function groupForm(chat) {
  const name = h('input', { value: chat.name, required: true, maxlength: 100 });
  const description = h('textarea', { maxlength: 1000, rows: 2 });
  description.value = chat.description ?? '';
  const error = formError();
  const form = h(
    'form',
    { class: 'dialog-form' },
    field('Name', name),
    field('Description', description),
    error,
    h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit', class: 'secondary' }, 'Save')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(() => updateGroup(chat.id, { name: name.value, description: description.value }), error).then(
      (saved) => saved && toast('Saved.'),
    );
  });
  return form;
}

function addMembersForm(chat, render) {
  const picker = memberPicker(new Set((chat.members ?? []).map((member) => member.user.id)));
  const error = formError();
  const form = h(
    'form',
    { class: 'dialog-form' },
    picker.el,
    error,
    h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit', class: 'secondary' }, 'Add members')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!picker.ids().length) return;
    if (await attempt(() => addMembers(chat.id, picker.ids()), error)) render();
  });
  return form;
}

function sortedMembers(chat) {
  const rank = (member) => (member.role === 'admin' ? 0 : 1);
  return [...(chat.members ?? [])].sort(
    (a, b) => rank(a) - rank(b) || displayName(a.user).localeCompare(displayName(b.user)),
  );
}

function memberRow(chat, member, render) {
  const user = state.users.get(member.user.id) ?? member.user;
  const presence = presenceOf(user.id);
  const me = isMe(user.id);
  const act = (work) => () => attempt(work).then(render);
  const promote = member.role === 'admin' ? 'Remove admin' : 'Make admin';
  const newRole = member.role === 'admin' ? 'member' : 'admin';
  return h(
    'li',
    { class: 'member' },
    personNode('span', user, presence.is_online ? 'online' : formatLastSeen(presence.last_seen)),
    member.role === 'admin' && h('span', { class: 'role', text: 'admin' }),
    me && h('span', { class: 'role', text: 'you' }),
    chat.my_role === 'admin' &&
      !me &&
      h(
        'span',
        { class: 'member-actions' },
        h('button', { type: 'button', class: 'link', onclick: act(() => setMemberRole(chat.id, user.id, newRole)) }, promote),
        h('button', { type: 'button', class: 'link danger', onclick: act(() => removeMember(chat.id, user.id)) }, 'Remove'),
      ),
  );
}

function groupExits(chat, admin, dialog) {
  const leave = async () => {
    if (confirm('Leave this group?') && (await attempt(() => leaveGroup(chat.id)))) dialog.close();
  };
  const remove = async () => {
    if (confirm('Delete this group for everyone?') && (await attempt(() => deleteChat(chat.id)))) dialog.close();
  };
  return [
    h('button', { type: 'button', class: 'secondary', onclick: leave }, 'Leave group'),
    admin && h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete group'),
  ];
}

function fileButton(label, accept, onFile) {
  const input = h('input', { type: 'file', accept, class: 'visually-hidden' });
  input.addEventListener('change', () => {
    if (input.files[0]) onFile(input.files[0]);
    input.value = '';
  });
  return h('label', { class: 'button secondary' }, label, input);
}

// --- Profile --------------------------------------------------------------------------------

export function openProfile() {
  const body = h('div');
  const dialog = showDialog('Your profile', body);
  const render = () => body.replaceChildren(profileContent(render, dialog));
  render();
}

function profileContent(render, dialog) {
  const me = state.me;
  if (!me) return h('p', { class: 'muted', text: 'Loading…' });
  const inputs = {
    full_name: h('input', { value: me.full_name, maxlength: 100 }),
    status: h('input', { value: me.status, maxlength: 140 }),
    bio: h('textarea', { maxlength: 500, rows: 3 }),
  };
  inputs.bio.value = me.bio;
  const error = formError();
  const form = h(
    'form',
    { class: 'dialog-form' },
    field('Name', inputs.full_name),
    field('Status', inputs.status),
    field('About', inputs.bio),
    error,
    h('div', { class: 'dialog-buttons' }, h('button', { type: 'submit' }, 'Save')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value]));
    if (await attempt(() => updateProfile(fields), error)) toast('Saved.');
  });
  return h(
    'div',
    { class: 'info' },
    h(
      'div',
      { class: 'info-head' },
      avatar(displayName(me), me.avatar, me.id, 'large'),
      h('strong', { text: `@${me.username}` }),
      h('span', { class: 'muted', text: me.email }),
      h(
        'span',
        { class: 'row' },
        fileButton('Change picture', 'image/*', (file) => attempt(() => setMyAvatar(file)).then(render)),
        me.avatar &&
          h('button', { type: 'button', class: 'secondary', onclick: () => attempt(removeMyAvatar).then(render) }, 'Remove'),
      ),
    ),
    form,
    h(
      'div',
      { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'danger', onclick: () => logout().then(() => dialog.close()) }, 'Log out'),
    ),
  );
}
