// The conversation list: newest activity first, unread counts, one-line
// previews that end in an ellipsis.
import { call, M } from "../api.js";
import { $, el, avatar, time, dayLabel, dayKey } from "../format.js";
import { preview } from "../messages.js";
import { state, on, setConversations } from "../store.js";
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
