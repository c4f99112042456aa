// The open conversation: its history (older pages load as the user scrolls
// up, keeping the position), day separators, the composer.
import { call, M, user, upload } from "../api.js";
import { $, el, time, fullTime, dayKey, dayLabel, avatar } from "../format.js";
import { body } from "../messages.js";
import { state, history, emit } from "../store.js";

const PAGE = 50;
const NEWEST = "18446744073709551615"; // before_seq past any seq: the newest page

const list = () => $("#message-list");
const scroller = () => $("#messages");

export const conversationName = (c) =>
  c.peer_group?.name ? `# ${c.peer_group.name}` : c.peer_user?.nickname || c.conversation_id;

// open shows conversation c (a Conversation, or a stand-in for one that has
// no messages yet) and loads its newest page.
export async function open(c) {
  state.open = c.conversation_id;
  if (!state.conversations.has(c.conversation_id)) state.conversations.set(c.conversation_id, c);
  emit("open", c.conversation_id);
  $("#chats").classList.add("in-chat");
  $("#chat").classList.remove("empty");
  $("#chat-title").textContent = conversationName(c);
  $("#chat-avatar").replaceChildren(avatar(c.peer_group || c.peer_user, c.peer_group?.name || c.peer_user?.nickname, true));
  $("#chat-info").hidden = false;
  $("#composer").hidden = false;
  list().replaceChildren();
  const h = history(c.conversation_id);
  if (h.newest === 0) await loadOlder(c.conversation_id);
  else await catchUp(c.conversation_id);
  await render(c.conversation_id);
  // A screen taller than a page could not scroll up to ask for the next.
  while (!h.complete && scroller().scrollHeight <= scroller().clientHeight && state.open === c.conversation_id) {
    await loadOlder(c.conversation_id);
    await render(c.conversation_id);
  }
  scrollToNewest();
  await markRead(c.conversation_id);
  $("#composer-text").focus();
}

// loadOlder adds the page before the oldest loaded message.
async function loadOlder(id) {
  const h = history(id);
  if (h.complete || h.loading) return false;
  h.loading = true;
  try {
    const resp = await call(M("SyncMessages"), { conversation_id: id, before_seq: h.oldest ? String(h.oldest) : NEWEST, limit: PAGE });
    h.add(resp.message || []);
    if (!resp.has_more) h.complete = true;
    return true;
  } finally {
    h.loading = false;
  }
}

// catchUp adds everything after the newest loaded message (after a
// reconnect, or a push that skipped ahead), page by page.
export async function catchUp(id) {
  const h = history(id);
  for (;;) {
    const resp = await call(M("SyncMessages"), { conversation_id: id, after_seq: String(h.newest), limit: 200 });
    h.add(resp.message || []);
    if (!resp.has_more) return;
  }
}

// render draws the loaded history of id, if it is open.
async function render(id) {
  if (state.open !== id) return;
  const h = history(id);
  const nodes = [];
  let day = "";
  for (const m of h.messages()) {
    const at = new Date(m.created_at);
    if (dayKey(at) !== day) {
      day = dayKey(at);
      nodes.push(el("li", { className: "day", textContent: dayLabel(at) }));
    }
    nodes.push(await bubble(m, at));
  }
  list().replaceChildren(...nodes);
  $("#history-state").textContent = h.complete ? (h.newest ? "Beginning of the conversation" : "No messages yet: say hello") : "";
}

async function bubble(m, at) {
  const mine = String(m.from_user_id) === String(state.me.id);
  const from = mine ? state.me : await user(m.from_user_id);
  const node = el("li", { className: mine ? "bubble mine" : "bubble" },
    mine ? null : el("span", { className: "who", textContent: from.nickname }),
    body(m, { onImage: showImage }),
    el("time", { dateTime: m.created_at, title: fullTime(at), textContent: time(at) }));
  node.dataset.seq = m.seq;
  return node;
}

function showImage(url) {
  const viewer = $("#viewer");
  $("img", viewer).src = url;
  viewer.showModal();
}

const atBottom = () => {
  const s = scroller();
  return s.scrollHeight - s.scrollTop - s.clientHeight < 40;
};

function scrollToNewest() {
  const s = scroller();
  s.scrollTop = s.scrollHeight;
  $("#jump").hidden = true;
}

export async function markRead(id) {
  const h = history(id);
  const c = state.conversations.get(id);
  if (!h.newest || document.hidden || state.open !== id) return;
  if (c && Number(c.read_seq || 0) >= h.newest) return;
  await call(M("MarkRead"), { conversation_id: id, seq: String(h.newest) });
  if (c) {
    c.read_seq = String(h.newest);
    c.unread_count = "0";
    emit("conversations");
  }
}

// received takes a pushed message: added once to its history (a gap since
// the newest loaded one is synced first), shown if open.
export async function received(m) {
  const id = m.conversation_id;
  const h = history(id);
  if (h.newest && Number(m.seq) > h.newest + 1) await catchUp(id);
  const stick = atBottom();
  if (h.add([m]).length === 0) return;
  if (state.open !== id) return;
  await render(id);
  if (stick || String(m.from_user_id) === String(state.me.id)) scrollToNewest();
  else $("#jump").hidden = false;
  await markRead(id);
}

// resync brings the open conversation up to date after a reconnect.
export async function resync() {
  if (!state.open) return;
  await catchUp(state.open);
  await render(state.open);
  await markRead(state.open);
}

async function send(form) {
  const c = state.conversations.get(state.open);
  const to = c.peer_group ? { to_group_id: c.peer_group.id } : { to_user_id: c.peer_user.id };
  const kind = c.peer_group ? "Group" : "User";
  const text = form.text.value.trim();
  const image = form.image.files[0];
  const file = form.file.files[0];
  form.reset();
  if (image) {
    const url = await upload(image, "image");
    await call(M(`Send${kind}ImageMessage`), { ...to, image: { url, size: String(image.size) } });
  }
  if (file) {
    const url = await upload(file, "file");
    await call(M(`Send${kind}FileMessage`), { ...to, file: { url, size: String(file.size), name: file.name.slice(0, 255) } });
  }
  if (text) await call(M(`Send${kind}TextMessage`), { ...to, text: { content: text } });
}

export function setUp({ notify }) {
  const form = $("#composer");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await send(form);
    } catch (err) {
      notify(err.message);
    }
  });
  // Enter sends, Shift+Enter is a new line.
  form.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  for (const input of [form.image, form.file]) input.addEventListener("change", () => form.requestSubmit());

  // Pictures load after the bubbles are drawn: a reader at the bottom stays
  // at the bottom as they grow.
  let pinned = true;
  new ResizeObserver(() => {
    if (pinned) scroller().scrollTop = scroller().scrollHeight;
  }).observe(list());
  scroller().addEventListener("scroll", async () => {
    const s = scroller();
    pinned = atBottom();
    if (pinned) $("#jump").hidden = true;
    if (s.scrollTop > 80 || !state.open) return;
    const id = state.open;
    const before = s.scrollHeight - s.scrollTop;
    if (await loadOlder(id)) {
      await render(id);
      s.scrollTop = s.scrollHeight - before; // the same message stays in view
    }
  });
  $("#jump").addEventListener("click", scrollToNewest);
  $("#back").addEventListener("click", () => {
    $("#chats").classList.remove("in-chat");
    state.open = null;
    emit("open", null);
  });
  $("#viewer .close").addEventListener("click", () => $("#viewer").close());
  document.addEventListener("visibilitychange", () => state.open && markRead(state.open).catch(() => {}));
}
