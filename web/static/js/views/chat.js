// The open conversation: its history (older pages load as the user scrolls
// up, keeping the position), day separators, the composer. New messages are
// appended to what is drawn; the whole list is drawn again only when older
// pages or a catch-up add messages before the newest drawn one.
import { call, M, user, upload } from "../api.js";
import { $, el, time, fullTime, dayKey, dayLabel, avatar, ago, withDot } from "../format.js";
import { body, preview, quote, eventText, named } from "../messages.js";
import * as signals from "../signals.js";
import { state, history, emit, on, History, typers } from "../store.js";
import * as menu from "./menu.js";
import * as receipts from "./receipts.js";
import { report } from "./report.js";

const PAGE = 50;
const NEWEST = "18446744073709551615"; // before_seq past any seq: the newest page
// A conversation more than this many messages behind starts over from its
// newest page rather than paging through everything missed.
const CATCH_UP_PAGES = 5;

const list = () => $("#message-list");
const scroller = () => $("#messages");

export const conversationName = (c) =>
  c.peer_group?.name ? `# ${c.peer_group.name}` : c.peer_user?.nickname || c.conversation_id;

// looking reports whether the user can see conversation id: it is open, the
// Chats tab is showing, and the browser tab is in front.
export const looking = (id) => state.open === id && !document.hidden && !$("#chats").hidden;

// typingText says who is typing in conversation id ("" for no one).
export function typingText(id) {
  const names = typers(id).map((uid) => {
    const known = state.users.get(uid);
    if (!known) user(uid).then(() => emit("typing", id), () => {});
    return known?.nickname || "Someone";
  });
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
}

// drawHeader draws the open conversation's avatar (with the peer's online
// dot) and what is under its name: who is typing, else the peer's
// presence ("online", "last seen 5 minutes ago").
function drawHeader() {
  const c = state.open && state.conversations.get(state.open);
  const status = $("#chat-status");
  if (!c) {
    status.textContent = "";
    return;
  }
  const typing = typingText(c.conversation_id);
  const p = c.peer_user && state.presence.get(String(c.peer_user.id));
  let text = typing;
  if (!text && p?.online) text = "online";
  else if (!text && p?.last_seen_at) text = `last seen ${ago(new Date(p.last_seen_at))}`;
  if (status.textContent !== text) status.textContent = text;
  status.classList.toggle("typing", !!typing);
  $("#chat-avatar").replaceChildren(withDot(avatar(c.peer_group || c.peer_user, c.peer_group?.name || c.peer_user?.nickname, true), !!p?.online));
}

// drawn is what the list shows: the conversation, its newest seq and day.
let drawn = { id: null, newest: 0, day: "" };
let generation = 0; // a newer draw makes an older, still running one stop

// open shows conversation c (a Conversation, or a stand-in for one that has
// no messages yet) and loads its newest page.
export async function open(c) {
  const id = c.conversation_id;
  if (state.open !== id) signals.stopTyping();
  state.open = id;
  if (!state.conversations.has(id)) state.conversations.set(id, c);
  emit("open", id);
  $("#chats").classList.add("in-chat");
  $("#chat").classList.remove("empty");
  $("#chat-title").textContent = conversationName(c);
  drawHeader();
  if (c.peer_user && !state.presence.has(String(c.peer_user.id))) signals.fetchPresence([c.peer_user.id]).catch(() => {});
  $("#chat-info").hidden = false;
  $("#chat-menu").hidden = false;
  $("#composer").hidden = false;
  receipts.reset();
  list().replaceChildren();
  $("#history-state").textContent = "";
  cancelReply();
  drawn = { id, newest: 0, day: "" };
  const h = history(id);
  if (h.newest === 0) await loadOlder(id);
  else await catchUp(id);
  await render(id);
  // A screen taller than a page could not scroll up to ask for the next.
  while (state.open === id && !h.complete && scroller().scrollHeight <= scroller().clientHeight) {
    if (!(await loadOlder(id))) break;
    await render(id);
  }
  if (state.open !== id) return;
  scrollToNewest();
  await markRead(id);
  $("#composer-text").focus();
}

// loadOlder adds the page before the oldest loaded message; false if there
// is none (or a load was already running, which it waits for).
async function loadOlder(id) {
  const h = history(id);
  if (h.loading) {
    await h.loading;
    return false;
  }
  if (h.complete) return false;
  h.loading = (async () => {
    const resp = await call(M("SyncMessages"), { conversation_id: id, before_seq: h.oldest ? String(h.oldest) : NEWEST, limit: PAGE });
    signals.fromPeer(id, h.add(resp.message || []));
    if (!resp.has_more) h.complete = true;
  })();
  try {
    await h.loading;
    return true;
  } finally {
    h.loading = null;
  }
}

// catchUp adds what came after the newest loaded message (after a
// reconnect, or a push that skipped ahead). Far behind, the history starts
// over from the newest page.
export async function catchUp(id) {
  const h = history(id);
  if (h.newest === 0) return loadOlder(id);
  let changes = 0;
  for (let page = 0; page < CATCH_UP_PAGES; page++) {
    const resp = await call(M("SyncMessages"), { conversation_id: id, after_seq: String(h.cursor), limit: 200 });
    signals.fromPeer(id, h.add(resp.message || []));
    for (const c of resp.changes || []) changes += h.change(c).length;
    // Entries this user does not see (another's delete-for-me) have seqs
    // too: the page says where it ends, so they are not asked for again.
    if (Number(resp.cursor || 0) > h.cursor && h.newest) h.cursor = Number(resp.cursor);
    // Changes redraw what they changed: drawn again with what is new.
    if (changes > 0 && drawn.id === id) drawn = { id: null, newest: 0, day: "" };
    if (!resp.has_more) return true;
  }
  state.histories.set(id, new History());
  drawn = { id: null, newest: 0, day: "" };
  return loadOlder(id);
}

async function dayAndBubble(m, day) {
  const at = new Date(m.created_at);
  const nodes = [];
  if (dayKey(at) !== day) nodes.push(el("li", { className: "day", textContent: dayLabel(at) }));
  nodes.push(await bubble(m, at));
  return { nodes, day: dayKey(at) };
}

// render draws the loaded history of id, if it is open.
async function render(id) {
  if (state.open !== id) return;
  const mine = ++generation;
  const h = history(id);
  const nodes = [];
  let day = "";
  for (const m of h.messages()) {
    const drawnDay = await dayAndBubble(m, day);
    nodes.push(...drawnDay.nodes);
    day = drawnDay.day;
  }
  if (mine !== generation || state.open !== id) return; // a newer draw won
  list().replaceChildren(...nodes);
  drawn = { id, newest: h.newest, day };
  $("#history-state").textContent = h.complete ? (h.newest ? "Beginning of the conversation" : "No messages yet: say hello") : "";
}

// append draws the messages after the newest drawn one, or everything again
// if that is not where they go.
async function append(id) {
  const h = history(id);
  if (drawn.id !== id || !drawn.newest) return render(id);
  const mine = ++generation;
  const nodes = [];
  let { day } = drawn;
  for (const m of h.messages().filter((x) => Number(x.seq) > drawn.newest)) {
    const drawnDay = await dayAndBubble(m, day);
    nodes.push(...drawnDay.nodes);
    day = drawnDay.day;
  }
  if (mine !== generation || state.open !== id) return render(id);
  list().append(...nodes);
  drawn = { id, newest: h.newest, day };
}

// The quick reactions the React action offers.
const QUICK = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

const react = (m, emoji, remove) =>
  call(M("ReactToMessage"), { message_id: m.id, emoji, remove }).catch((err) => notifyError(err.message));

const action = (text, label, onClick, extra = {}) => {
  const b = el("button", { type: "button", className: "reply-button", textContent: text, ariaLabel: label, ...extra });
  b.dataset.focus = text;
  b.addEventListener("click", onClick);
  return b;
};

// reactions draws a message's reaction chips: a click takes one's own back
// or adds it; the title says who (the last five) reacted.
async function reactions(m) {
  const list = m.recalled ? [] : m.reactions || [];
  if (!list.length) return null;
  const chips = [];
  for (const r of list) {
    const count = Number(r.count || 0);
    const names = [];
    for (const id of r.recent_user_id || []) {
      if (String(id) === String(state.me.id)) names.push("you");
      else names.push(await user(id).then((u) => u.nickname, () => "someone"));
    }
    const more = count > names.length ? `${names.length ? " and " : ""}${count - names.length} more` : "";
    const title = `${count} ${count === 1 ? "reaction" : "reactions"} with ${r.emoji}: ${names.join(", ")}${more}`;
    const chip = el("button", { type: "button", className: r.mine ? "reaction mine" : "reaction", title, ariaLabel: title },
      el("span", { className: "emoji", textContent: r.emoji }), el("span", { className: "count", textContent: String(count) }));
    chip.setAttribute("aria-pressed", String(!!r.mine));
    chip.dataset.emoji = r.emoji;
    chip.dataset.focus = `chip ${r.emoji}`;
    chip.addEventListener("click", () => react(m, r.emoji, !!r.mine));
    chips.push(chip);
  }
  return el("div", { className: "reactions", role: "group", ariaLabel: "Reactions" }, chips);
}

// picker is the row of quick reactions the React action opens.
function picker(m, opener) {
  const held = new Set((m.reactions || []).filter((r) => r.mine).map((r) => r.emoji));
  const row = el("div", { className: "picker", role: "group", ariaLabel: "React with", hidden: true },
    QUICK.map((emoji) => {
      const b = el("button", { type: "button", textContent: emoji, title: held.has(emoji) ? `Take back ${emoji}` : `React with ${emoji}` });
      b.ariaLabel = b.title;
      b.setAttribute("aria-pressed", String(held.has(emoji)));
      b.dataset.focus = `pick ${emoji}`;
      b.addEventListener("click", () => {
        toggle(false);
        react(m, emoji, held.has(emoji));
      });
      return b;
    }));
  const toggle = (show) => {
    row.hidden = !show;
    opener.setAttribute("aria-expanded", String(show));
    if (show) row.querySelector("button").focus();
    else if (row.contains(document.activeElement)) opener.focus();
  };
  opener.setAttribute("aria-expanded", "false");
  opener.addEventListener("click", () => toggle(row.hidden));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      toggle(false);
    }
  });
  return row;
}

// eventLine is a group event: a centred line, not a bubble, with no
// actions (the server refuses replies, edits, reactions and recalls).
async function eventLine(m, at) {
  await named(m);
  const node = el("li", { className: "event" }, el("span", { textContent: eventText(m) }),
    el("time", { dateTime: m.created_at, title: fullTime(at), textContent: time(at) }));
  node.dataset.seq = m.seq;
  return node;
}

async function bubble(m, at) {
  if (m.group_event) return eventLine(m, at);
  const mine = String(m.from_user_id) === String(state.me.id);
  const from = mine ? state.me : await user(m.from_user_id);
  const quoted = m.reply_to ? quote(m.reply_to, (await user(m.reply_to.from_user_id)).nickname) : null;
  const actions = [];
  let pick = null;
  if (!m.recalled) {
    const opener = action("React", "React to this message", () => {});
    pick = picker(m, opener);
    actions.push(action("Reply", `Reply to ${from.nickname}`, () => replyTo(m, from.nickname)), opener);
  }
  if (mine && m.text && !m.recalled) actions.push(action("Edit", "Edit this message", () => startEdit(m)));
  if (mine && !m.recalled) {
    actions.push(action("Recall", "Recall this message", () => {
      if (confirm("Recall this message for everyone?")) call(M("RecallMessage"), { message_id: m.id }).catch((err) => notifyError(err.message));
    }));
  }
  if (!mine && !m.recalled) actions.push(action("Report", "Report this message", () => report("MESSAGE", m.id, "this message", quote({ preview: preview(m) }, from.nickname))));
  actions.push(action("Delete for me", "Delete this message for me", () => {
    if (confirm("Delete this message for you? Others still have it.")) call(M("DeleteMessageForMe"), { message_id: m.id }).catch((err) => notifyError(err.message));
  }));
  const edited = Number(m.edit_count || 0) > 0
    ? el("span", { className: "meta edited", textContent: "edited", title: m.edited_at ? `Edited ${fullTime(new Date(m.edited_at))}` : "" })
    : null;
  const node = el("li", { className: mine ? "bubble mine" : "bubble" },
    mine ? null : el("span", { className: "who", textContent: from.nickname }),
    quoted,
    body(m, { onImage: showImage }),
    await reactions(m),
    el("span", { className: "foot" }, el("span", { className: "actions" }, actions), edited, el("time", { dateTime: m.created_at, title: fullTime(at), textContent: time(at) }),
      receipts.status(m)),
    pick);
  node.dataset.seq = m.seq;
  receipts.watch(node, m);
  node.addEventListener("click", (event) => {
    if (event.target.closest("button, a, audio, video")) return;
    for (const other of list().querySelectorAll(".bubble.active")) if (other !== node) other.classList.remove("active");
    node.classList.toggle("active"); // one bubble's actions at a time
  });
  return node;
}

// redraw draws message seq of conversation id again as the history has it
// now (takes it away once deleted), keeping the keyboard focus and a tapped
// bubble's actions where they were. Of two redraws of one message at once,
// the one with its newest copy draws.
async function redraw(id, seq) {
  const find = () => list().querySelector(`[data-seq="${CSS.escape(String(seq))}"]`);
  const h = history(id);
  const m = h.bySeq.get(seq);
  if (!find()) return;
  if (!m) {
    const node = find();
    const day = node.previousElementSibling;
    const next = node.nextElementSibling;
    const focused = node.contains(document.activeElement);
    node.remove();
    if (day?.classList.contains("day") && (!next || next.classList.contains("day"))) day.remove();
    if (focused) $("#composer-text").focus();
    return;
  }
  const fresh = await bubble(m, new Date(m.created_at));
  const node = find();
  if (!node || state.open !== id || h.bySeq.get(seq) !== m) return; // gone, or a newer copy is being drawn
  const focus = node.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
  fresh.classList.toggle("active", node.classList.contains("active"));
  node.replaceWith(fresh);
  if (focus) ([...fresh.querySelectorAll("button")].find((b) => b.dataset.focus === focus) || fresh.querySelector("button"))?.focus();
}

// replyingTo is the message the next send answers, editing the one the
// composer edits (null: none). The bar above the composer says which.
let replyingTo = null;
let editing = null;

function replyTo(m, senderName) {
  cancelReply();
  replyingTo = m;
  $("#reply-text").textContent = `Replying to ${senderName}: ${preview(m)}`;
  $("#reply-bar").hidden = false;
  $("#composer-text").focus();
}

function startEdit(m) {
  cancelReply();
  editing = m;
  $("#reply-text").textContent = "Editing your message";
  $("#reply-bar").hidden = false;
  $("#composer-text").value = m.text.content;
  $("#composer-text").focus();
}

function cancelReply() {
  if (editing) $("#composer-text").value = "";
  replyingTo = null;
  editing = null;
  $("#reply-bar").hidden = true;
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

// markRead marks the open conversation read up to its newest message, if
// the user can see it.
export async function markRead(id) {
  const h = history(id);
  const c = state.conversations.get(id);
  if (!h.cursor || !looking(id)) return;
  if (c && Number(c.read_seq || 0) >= h.cursor) return;
  await call(M("MarkRead"), { conversation_id: id, seq: String(h.cursor) });
  if (c) {
    c.read_seq = String(h.cursor);
    c.unread_count = "0";
    emit("conversations");
  }
}

// received takes a pushed message: added once to its history (a gap since
// the newest loaded one is synced first), shown if open.
export async function received(m) {
  const id = m.conversation_id;
  const h = history(id);
  const before = h.newest;
  if (h.cursor && Number(m.seq) > h.cursor + 1) await catchUp(id);
  history(id).add([m]);
  if (history(id).newest === before || state.open !== id) return;
  const stick = atBottom();
  await append(id);
  if (stick || String(m.from_user_id) === String(state.me.id)) scrollToNewest();
  else $("#jump").hidden = false;
  await markRead(id);
}

// changed takes a pushed change (an edit, a recall, a reaction, a
// delete-for-me): the message, and any reply quoting a recalled one, is
// replaced where it is loaded and drawn (a deleted one taken away); a gap
// before it is synced first.
export async function changed(c) {
  const id = c.message.conversation_id;
  if (history(id).cursor && Number(c.seq) > history(id).cursor + 1) {
    await catchUp(id); // which has this change too
    if (state.open === id) await append(id);
  }
  // What the composer answers or edits is no more.
  const gone = c.kind === "CHANGE_KIND_DELETED_FOR_ME" || c.kind === "CHANGE_KIND_RECALLED";
  if (gone && [replyingTo?.id, editing?.id].includes(c.message.id) && state.open === id) cancelReply();
  for (const m of history(id).change(c, state.me.id)) {
    if (state.open !== id) break;
    await redraw(id, Number(m.seq));
  }
  await markRead(id);
}

// resync brings the open conversation up to date after a reconnect.
export async function resync() {
  if (!state.open) return;
  const id = state.open;
  await catchUp(id);
  await append(id);
  await markRead(id);
}

// close leaves the conversation (the back button, signing out).
export function close() {
  cancelReply();
  signals.stopTyping();
  receipts.reset();
  state.open = null;
  drawn = { id: null, newest: 0, day: "" };
  list().replaceChildren();
  $("#history-state").textContent = "";
  $("#chat-title").textContent = "Pick a conversation";
  $("#chat-avatar").replaceChildren();
  $("#chat-status").textContent = "";
  $("#chat-info").hidden = true;
  $("#chat-menu").hidden = true;
  $("#composer").hidden = true;
  $("#chat").classList.add("empty");
  $("#chats").classList.remove("in-chat");
  emit("open", null);
}

// send sends what the composer holds; it is cleared once all of it is sent.
async function send(form) {
  if (editing) {
    const text = form.text.value.trim();
    if (!text) return;
    const id = editing.id;
    await call(M("EditMessage"), { message_id: id, text: { content: text } });
    editing = null;
    cancelReply();
    form.text.value = "";
    return;
  }
  const c = state.conversations.get(state.open);
  const to = c.peer_group ? { to_group_id: c.peer_group.id } : { to_user_id: c.peer_user.id };
  const kind = c.peer_group ? "Group" : "User";
  // The first of what is sent answers the message being replied to.
  const reply = () => {
    const id = replyingTo?.id;
    cancelReply();
    return id ? { reply_to_id: id } : {};
  };
  const text = form.text.value.trim();
  const image = form.image.files[0];
  const file = form.file.files[0];
  if (image) {
    const url = await upload(image, "image");
    await call(M(`Send${kind}ImageMessage`), { ...to, ...reply(), image: { url, size: String(image.size) } });
    form.image.value = "";
  }
  if (file) {
    const url = await upload(file, "file");
    await call(M(`Send${kind}FileMessage`), { ...to, ...reply(), file: { url, size: String(file.size), name: file.name.slice(0, 255) } });
    form.file.value = "";
  }
  if (text) {
    await call(M(`Send${kind}TextMessage`), { ...to, ...reply(), text: { content: text } });
    form.text.value = "";
    signals.stopTyping();
  }
}

// notifyError shows an error of an action on a message.
let notifyError = () => {};

export function setUp({ notify }) {
  notifyError = notify;
  const form = $("#composer");
  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;
    sending = true;
    try {
      await send(form);
    } catch (err) {
      notify(err.message);
    } finally {
      sending = false;
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
  // Typing notices: not for an edit.
  form.text.addEventListener("input", () => {
    if (state.open && !editing) signals.typed(state.open, form.text.value.trim() !== "");
  });

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
  $("#reply-cancel").addEventListener("click", cancelReply);
  form.text.addEventListener("keydown", (event) => event.key === "Escape" && cancelReply());
  $("#back").addEventListener("click", close);
  $("#viewer .close").addEventListener("click", () => $("#viewer").close());
  document.addEventListener("visibilitychange", () => state.open && markRead(state.open).catch(() => {}));
  on("typing", (id) => id === state.open && drawHeader());
  on("presence", drawHeader);
  setInterval(drawHeader, 30_000); // "last seen 5 minutes ago" goes on counting
  $("#chat-menu").addEventListener("click", () => state.open && menu.show(state.conversations.get(state.open), $("#chat-menu")));
}
