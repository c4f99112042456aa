// The conversation list: pinned ones first, then newest activity first;
// unread counts, one-line previews that end in an ellipsis (or who is
// typing), the online dot of 1:1 peers, pinned and muted marks, and the
// archived ones in their own section, folded.
import { call, M } from "../api.js";
import { $, el, avatar, time, dayLabel, dayKey, withDot } from "../format.js";
import { preview, knowsNames, named } from "../messages.js";
import * as signals from "../signals.js";
import { state, on, emit, setConversations, muted } from "../store.js";
import { conversationName, open, typingText } from "./chat.js";
import * as menu from "./menu.js";

// LIST_PAGES bounds the pages (of 1000) of the list fetched.
const LIST_PAGES = 5;

export async function refresh() {
  const list = [];
  let token = "";
  for (let page = 0; page < LIST_PAGES; page++) {
    const resp = await call(M("ListConversations"), { include_archived: true, page_token: token });
    list.push(...(resp.conversation || []));
    token = resp.next_page_token;
    if (!token) break;
  }
  // A conversation opened before its first message stays listed.
  if (state.open && !list.some((c) => c.conversation_id === state.open) && state.conversations.has(state.open)) {
    list.unshift(state.conversations.get(state.open));
  }
  setConversations(list);
  await signals.listed(list);
}

// onMessage updates the list for a pushed message without asking the
// server: the conversation moves to the top with its new last message and
// one more unread (not for one's own). An unknown conversation (a first
// message, a new group) is fetched with the whole list.
export async function onMessage(m) {
  const c = state.conversations.get(m.conversation_id);
  if (!c) return refresh();
  if (Number(m.seq) <= Number(c.last_seq || 0)) return; // already counted
  if (Number(m.seq) > Number(c.last_seq || 0) + 1) return refresh(); // missed some: count again
  c.last_message = m;
  c.last_seq = m.seq;
  if (!muted(c)) c.archived = false; // a message brings an archived conversation back, unless muted
  if (String(m.from_user_id) === String(state.me.id)) c.read_seq = m.seq;
  else c.unread_count = String(Number(c.unread_count || 0) + 1);
  state.conversations.delete(m.conversation_id);
  state.conversations = new Map([[m.conversation_id, c], ...state.conversations]);
  emit("conversations");
}

// onChange shows an edit of the conversation's last message in the list. A
// gap (missed pushes, or another user's delete-for-me, which is never sent
// here) and one's own delete-for-me (a new last message, unread count) ask
// the server again.
export function onChange(change) {
  const c = state.conversations.get(change.message.conversation_id);
  if (!c || Number(change.seq) <= Number(c.last_seq || 0)) return; // unknown, or counted already
  if (Number(change.seq) > Number(c.last_seq || 0) + 1) return refresh(); // missed some: count again
  if (change.kind === "CHANGE_KIND_DELETED_FOR_ME") return refresh();
  c.last_seq = change.seq; // the stream's, not unread
  const m = change.message;
  if (change.kind === "CHANGE_KIND_RECALLED" && Number(m.seq) > Number(c.read_seq || 0) && String(m.from_user_id) !== String(state.me.id)) {
    c.unread_count = String(Math.max(0, Number(c.unread_count || 0) - 1)); // it was unread
  }
  emit("conversations");
  if (c.last_message?.id !== change.message.id) return;
  c.last_message = change.message;
  emit("conversations");
}

function when(m) {
  if (!m?.created_at) return "";
  const at = new Date(m.created_at);
  return dayKey(at) === dayKey(new Date()) ? time(at) : dayLabel(at);
}

// archivedOpen: the archived section is unfolded.
let archivedOpen = false;

function row(c) {
  const unread = Number(c.unread_count || 0);
  const name = conversationName(c);
  const typing = typingText(c.conversation_id);
  const online = !!c.peer_user && !!state.presence.get(String(c.peer_user.id))?.online;
  const quiet = muted(c);
  // A group event's names are fetched, then the list drawn again.
  if (c.last_message?.group_event && !knowsNames(c.last_message)) named(c.last_message).then(() => emit("conversations"));
  const mark = (symbol, label) => el("span", { className: "mark", title: label },
    el("span", { ariaHidden: "true", textContent: symbol }), el("span", { className: "visually-hidden", textContent: ` ${label.toLowerCase()}` }));
  const item = el("button", { type: "button", className: "conversation" },
    withDot(avatar(c.peer_group || c.peer_user, c.peer_group?.name || c.peer_user?.nickname), online),
    el("span", { className: "summary" },
      el("span", { className: "top" }, el("strong", { className: "name", textContent: name }),
        el("span", { className: "meta", textContent: when(c.last_message) })),
      el("span", { className: "bottom" },
        typing ? el("span", { className: "last typing", textContent: typing }) : el("span", { className: "last", textContent: preview(c.last_message) || " " }),
        quiet ? mark("🔕", "Muted") : null, c.pinned ? mark("📌", "Pinned") : null)),
    unread > 0 ? el("span", { className: quiet ? "badge muted" : "badge", textContent: String(unread) }, el("span", { className: "visually-hidden", textContent: " unread" })) : null);
  if (c.conversation_id === state.open) item.setAttribute("aria-current", "true");
  item.addEventListener("click", () => open(c).catch(() => {}));
  const more = el("button", { type: "button", className: "icon row-menu", textContent: "⋯", ariaLabel: `Options for ${name}`, title: "Pin, mute, archive" });
  more.setAttribute("aria-haspopup", "menu");
  more.addEventListener("click", () => menu.show(c, more));
  const li = el("li", {}, item, more);
  li.dataset.conversation = c.conversation_id;
  return li;
}

function draw() {
  // The list is drawn again on every change: keep the keyboard where it was.
  const active = document.activeElement?.closest?.("#conversations li");
  const focused = active?.dataset.conversation;
  const onMenu = document.activeElement?.classList.contains("row-menu");
  const onToggle = document.activeElement?.classList.contains("archived-toggle");
  const all = [...state.conversations.values()];
  const listed = all.filter((c) => !c.archived);
  const archived = all.filter((c) => c.archived);
  // Pinned first, each part in the order of activity the map keeps.
  const items = [...listed.filter((c) => c.pinned), ...listed.filter((c) => !c.pinned)].map(row);
  if (!all.length) items.push(el("li", { className: "meta", textContent: "No conversations yet: find someone above." }));
  if (!archived.length) archivedOpen = false;
  if (archived.length) {
    const toggle = el("button", { type: "button", className: "link archived-toggle", textContent: `${archivedOpen ? "▾" : "▸"} Archived (${archived.length})` });
    toggle.setAttribute("aria-expanded", String(archivedOpen));
    toggle.addEventListener("click", () => {
      archivedOpen = !archivedOpen;
      draw();
    });
    items.push(el("li", { className: "archived-head" }, toggle));
    if (archivedOpen) items.push(...archived.map(row));
  }
  $("#conversations").replaceChildren(...items);
  if (focused) $(`#conversations li[data-conversation="${CSS.escape(focused)}"] ${onMenu ? ".row-menu" : ".conversation"}`)?.focus();
  else if (onToggle) $("#conversations .archived-toggle")?.focus();
}

export function setUp() {
  on("conversations", draw);
  on("open", draw);
  on("presence", draw);
  on("typing", (id) => state.conversations.has(id) && draw());
}
