// Receipts on one's own messages. In a 1:1 chat: ✓ once the peer has the
// message delivered, ✓✓ once it has read it (the conversation's peer
// marks). In a group: "Read by N" (or "Delivered to N"), from GetReceipts
// for the own messages in view, fetched again (at most every 1.5 s) when a
// receipt frame says marks moved over them; clicking it lists who read it
// and who has it delivered, paged.
import { call, M, user } from "../api.js";
import { $, el, avatar } from "../format.js";
import { preview } from "../messages.js";
import * as signals from "../signals.js";
import { state, history, on, setReceipts } from "../store.js";

const THROTTLE = 1500;
const BATCH = 20; // receipts asked for at once, the newest first
const PAGE = 50; // people per page of the list

const isGroup = (id) => !!state.conversations.get(id)?.peer_group;

// status is the receipt shown in the foot of own message m (null: none).
export function status(m) {
  const id = m.conversation_id;
  if (String(m.from_user_id) !== String(state.me.id) || m.recalled || m.group_event) return null;
  const seq = Number(m.seq);
  if (!isGroup(id)) {
    const c = state.conversations.get(id);
    const read = seq <= Number(c?.peer_read_seq || 0);
    if (!read && seq > Number(c?.peer_delivered_seq || 0)) return null;
    const node = el("span", { className: read ? "status read" : "status", textContent: read ? "✓✓" : "✓", title: read ? "Read" : "Delivered" });
    node.dataset.state = read ? "read" : "delivered";
    node.ariaLabel = node.title;
    node.setAttribute("role", "img");
    return node;
  }
  const r = history(id).receipts.get(seq);
  if (!r || (!r.read && !r.delivered)) return null;
  const text = r.read ? `Read by ${r.read}` : `Delivered to ${r.delivered}`;
  const b = el("button", { type: "button", className: "status readby", textContent: text,
    title: `Read by ${r.read} of ${r.members}, delivered to ${r.delivered}: who?` });
  b.dataset.state = r.read ? "read" : "delivered";
  b.dataset.focus = "receipts";
  b.addEventListener("click", () => showList(m).catch((err) => notify(err.message)));
  return b;
}

// patch draws the receipts of conversation id's own bubbles again.
function patch(id) {
  if (state.open !== id) return;
  const h = history(id);
  for (const node of $("#message-list").querySelectorAll(".bubble.mine")) {
    const m = h.bySeq.get(Number(node.dataset.seq));
    if (!m) continue;
    const old = node.querySelector(".foot .status");
    const fresh = status(m);
    const focused = old && old === document.activeElement;
    if (old && fresh) old.replaceWith(fresh);
    else if (old) old.remove();
    else if (fresh) node.querySelector(".foot").append(fresh);
    if (focused && fresh) fresh.focus();
  }
}

// --- the counts of a group's messages in view ------------------------------

// visible: seq → bubble, the own bubbles of the open group in view.
const visible = new Map();
let observer = null;

// watch follows bubble node of message m: own messages of a group get
// their counts while they are in view.
export function watch(node, m) {
  if (String(m.from_user_id) !== String(state.me.id) || m.recalled || m.group_event || !isGroup(m.conversation_id)) return;
  observer ||= new IntersectionObserver((entries) => {
    for (const e of entries) {
      const seq = Number(e.target.dataset.seq);
      if (e.isIntersecting && e.target.isConnected) visible.set(seq, e.target);
      else if (visible.get(seq) === e.target) visible.delete(seq);
    }
    want();
  }, { root: $("#messages") });
  observer.observe(node);
}

// reset forgets the bubbles watched (another conversation opens).
export function reset() {
  observer?.disconnect();
  visible.clear();
}

let last = 0;
let timer = null;

// want fetches the counts in view that are missing or stale, at most
// every THROTTLE (the last ask is never lost).
function want() {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    last = Date.now();
    fetchVisible().catch(() => {});
  }, Math.max(0, last + THROTTLE - Date.now()));
}

async function fetchVisible() {
  const id = state.open;
  if (!id || !isGroup(id)) return;
  const h = history(id);
  const seqs = [...visible.keys()].filter((s) => !h.receipts.get(s) || h.receipts.get(s).stale).sort((a, b) => b - a).slice(0, BATCH);
  await Promise.all(seqs.map(async (seq) => {
    const r = await call(M("GetReceipts"), { conversation_id: id, seq: String(seq), limit: 1 }).catch(() => null);
    if (r) setReceipts(id, seq, { read: Number(r.read_count || 0), delivered: Number(r.delivered_count || 0), members: Number(r.member_count || 0) });
  }));
}

// --- who read it -------------------------------------------------------------

async function showList(m) {
  const dialog = $("#receipts");
  const id = m.conversation_id;
  const readers = el("ul", { className: "members", ariaLabel: "Read by" });
  const receivers = el("ul", { className: "members", ariaLabel: "Delivered to" });
  const readHead = el("h3");
  const deliveredHead = el("h3");
  const more = el("button", { type: "button", className: "secondary", textContent: "More" });
  const note = el("p", { className: "meta" });
  let after = "0";
  const person = async (uid) => {
    const u = await user(uid).catch(() => ({ id: uid, nickname: "Someone" }));
    return el("li", { className: "member" }, avatar(u, u.nickname, true), el("span", { textContent: u.nickname }));
  };
  const load = async () => {
    const r = await call(M("GetReceipts"), { conversation_id: id, seq: m.seq, after_user_id: after, limit: PAGE });
    const read = Number(r.read_count || 0);
    const delivered = Number(r.delivered_count || 0);
    setReceipts(id, Number(m.seq), { read, delivered, members: Number(r.member_count || 0) });
    readHead.textContent = `Read by ${read}`;
    deliveredHead.textContent = `Delivered, not read yet: ${delivered - read}`;
    readers.append(...(await Promise.all((r.read_user_id || []).map(person))));
    receivers.append(...(await Promise.all((r.delivered_user_id || []).map(person))));
    after = String(r.next_after_user_id || "0");
    more.hidden = after === "0";
    const listed = readers.children.length + receivers.children.length;
    const members = Number(r.member_count || 0);
    note.textContent = delivered > 0 && listed === 0 && after === "0"
      ? "This group is too large to say who: counts only."
      : `Sent to ${members} ${members === 1 ? "member" : "members"}.`;
  };
  more.addEventListener("click", () => load().catch((err) => notify(err.message)));
  await load();
  dialog.replaceChildren(
    el("header", {}, el("h2", { id: "receipts-title", textContent: "Message info" })),
    el("blockquote", { className: "quote" }, el("span", { textContent: preview(m) })),
    note, readHead, readers, deliveredHead, receivers, more,
    el("form", { method: "dialog" }, el("button", { className: "secondary", textContent: "Close" })));
  if (!dialog.open) dialog.showModal();
}

let notify = () => {};

export function setUp(options) {
  notify = options.notify;
  on("receipts", patch);
  signals.onGroupReceipts((id) => state.open === id && want());
}
