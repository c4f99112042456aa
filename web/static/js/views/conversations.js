// The conversation list: newest activity first, unread counts, one-line
// previews that end in an ellipsis.
import { call, M } from "../api.js";
import { $, el, avatar, time, dayLabel, dayKey } from "../format.js";
import { preview } from "../messages.js";
import { state, on, emit, setConversations } from "../store.js";
import { conversationName, open } from "./chat.js";

export async function refresh() {
  const resp = await call(M("ListConversations"), {});
  const list = resp.conversation || [];
  // A conversation opened before its first message stays listed.
  if (state.open && !list.some((c) => c.conversation_id === state.open) && state.conversations.has(state.open)) {
    list.unshift(state.conversations.get(state.open));
  }
  setConversations(list);
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

function draw() {
  // The list is drawn again on every change: keep the keyboard where it was.
  const focused = document.activeElement?.closest?.("#conversations li")?.dataset.conversation;
  const items = [...state.conversations.values()].map((c) => {
    const unread = Number(c.unread_count || 0);
    const name = conversationName(c);
    const item = el("button", { type: "button", className: "conversation" },
      avatar(c.peer_group || c.peer_user, c.peer_group?.name || c.peer_user?.nickname),
      el("span", { className: "summary" },
        el("span", { className: "top" }, el("strong", { className: "name", textContent: name }), el("span", { className: "meta", textContent: when(c.last_message) })),
        el("span", { className: "last", textContent: preview(c.last_message) || " " })),
      unread > 0 ? el("span", { className: "badge", textContent: String(unread) }, el("span", { className: "visually-hidden", textContent: " unread" })) : null);
    if (c.conversation_id === state.open) item.setAttribute("aria-current", "true");
    item.addEventListener("click", () => open(c).catch(() => {}));
    const li = el("li", {}, item);
    li.dataset.conversation = c.conversation_id;
    return li;
  });
  if (!items.length) items.push(el("li", { className: "meta", textContent: "No conversations yet: find someone above." }));
  $("#conversations").replaceChildren(...items);
  if (focused) $(`#conversations li[data-conversation="${CSS.escape(focused)}"] button`)?.focus();
}

export function setUp() {
  on("conversations", draw);
  on("open", draw);
}
