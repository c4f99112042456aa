// What travels beside messages: typing notices, delivery and read marks,
// presence. The "typing", "receipt" and "presence" pushes are written to
// the store; the calls that feed the other side (SendTyping,
// MarkDelivered) and fetch the first state (GetPresence, GetPrivacy) are
// made here. Views draw what the store holds.
import { call, M, U } from "./api.js";
import { $ } from "./format.js";
import { state, setTyping, setPeerMarks, setReceipts, setPresence, setHidePresence } from "./store.js";

const me = (id) => String(id) === String(state.me?.id);
const isGroup = (id) => !!state.conversations.get(id)?.peer_group;

// onPush takes a typing, receipt or presence frame; false for any other.
export function onPush(frame) {
  const d = frame.data || {};
  if (frame.cmd === "typing") {
    if (!me(d.user_id)) setTyping(d.conversation_id, d.user_id, !d.stopped);
  } else if (frame.cmd === "receipt") {
    const marks = [d, ...(d.others || [])].filter((x) => !me(x.user_id));
    if (!isGroup(d.conversation_id)) {
      for (const x of marks) setPeerMarks(d.conversation_id, x.delivered_seq, x.read_seq);
    } else {
      // A group's counts of the messages the marks moved over are fetched
      // again (views/receipts.js, for the ones in view).
      setReceipts(d.conversation_id, Math.max(0, ...marks.map((x) => Math.max(Number(x.delivered_seq || 0), Number(x.read_seq || 0)))), null);
      onGroupReceipt(d.conversation_id);
    }
  } else if (frame.cmd === "presence") {
    setPresence([d]);
  } else {
    return false;
  }
  return true;
}

// onGroupReceipt is called with a group's id when its receipts went stale
// (views/receipts.js sets it).
let onGroupReceipt = () => {};
export const onGroupReceipts = (fn) => { onGroupReceipt = fn; };

// fromPeer notes messages of conversation id that reached the page: their
// senders stop typing, and a 1:1 peer's message with seq S says it has
// read the conversation up to S.
export function fromPeer(id, messages) {
  let newest = 0;
  for (const m of messages) {
    if (me(m.from_user_id)) continue;
    setTyping(id, m.from_user_id, false);
    newest = Math.max(newest, Number(m.seq));
  }
  if (newest && !isGroup(id)) setPeerMarks(id, newest, newest);
}

// --- delivery ------------------------------------------------------------

// Pushed messages are acknowledged (MarkDelivered) in batches, at most
// every half second, one call per conversation; a conversation read up to
// there meanwhile needs none (a read implies delivery). acked is what was
// acknowledged, so a list fetched again does not ask twice.
const DELIVERY_BATCH = 500;
const pending = new Map();
const acked = new Map();
let batch = null;

export function delivered(id, seq) {
  seq = Number(seq);
  if (seq <= Math.max(pending.get(id) || 0, acked.get(id) || 0)) return;
  pending.set(id, seq);
  batch ||= setTimeout(flushDelivered, DELIVERY_BATCH);
}

function flushDelivered() {
  batch = null;
  for (const [id, seq] of pending) {
    pending.delete(id);
    acked.set(id, seq);
    if (Number(state.conversations.get(id)?.read_seq || 0) >= seq) continue;
    call(M("MarkDelivered"), { conversation_id: id, seq: String(seq) }).catch(() => acked.delete(id));
  }
}

// listed takes a fetched conversation list: what is unread in it reached
// this device (its last message is on screen), so it is acknowledged;
// the presence of its 1:1 peers is fetched.
export async function listed(list) {
  let n = 0;
  for (const c of list) if (Number(c.unread_count || 0) > 0 && n++ < 50) delivered(c.conversation_id, c.last_seq);
  // Presence is extra: the list stands without it.
  await fetchPresence(list.filter((c) => c.peer_user).map((c) => c.peer_user.id)).catch(() => {});
}

// --- typing ----------------------------------------------------------------

// A notice goes when the user starts typing and again every 3 s while
// they go on; a stop when the draft is cleared or sent, or they move to
// another conversation. The server drops more than one notice (and one
// stop) a second per conversation, so a start right after a stop waits
// until a second after the previous start.
const TYPING_EVERY = 3000;
let typingIn = null; // the conversation a notice said the user types in
let lastConversation = null; // the last one a notice went to
let lastStart = 0;
let nextStart = 0; // no notice to lastConversation before then

export function typed(id, hasText) {
  if (!hasText) return stopTyping();
  if (typingIn && typingIn !== id) stopTyping();
  const now = Date.now();
  if (now < nextStart && lastConversation === id) return;
  typingIn = lastConversation = id;
  lastStart = now;
  nextStart = now + TYPING_EVERY;
  call(M("SendTyping"), { conversation_id: id }).catch(() => {});
}

export function stopTyping() {
  if (!typingIn) return;
  call(M("SendTyping"), { conversation_id: typingIn, stopped: true }).catch(() => {});
  typingIn = null;
  nextStart = lastStart + 1000;
}

// --- presence ----------------------------------------------------------------

// fetchPresence asks for the presence of users (at most 200 a call: the
// first 200 of them, the list's most recent).
export async function fetchPresence(ids) {
  const want = [...new Set(ids.map(String))].filter((id) => !me(id)).slice(0, 200);
  if (!want.length) return;
  const resp = await call(U("GetPresence"), { user_id: want });
  setPresence(resp.presence || []);
}

// loadPrivacy reads the caller's privacy setting, on sign-in (a failure
// leaves the toggle off; signing in goes on).
export async function loadPrivacy() {
  const resp = await call(U("GetPrivacy"), {}).catch(() => ({}));
  setHidePresence(!!resp.hide_presence);
  $("#hide-presence").checked = state.hidePresence;
}

export function reset() {
  clearTimeout(batch);
  batch = null;
  pending.clear();
  acked.clear();
  typingIn = lastConversation = null;
  nextStart = 0;
}

export function setUp({ notify }) {
  const toggle = $("#hide-presence");
  toggle.addEventListener("change", async () => {
    try {
      const resp = await call(U("UpdatePrivacy"), { hide_presence: toggle.checked });
      setHidePresence(!!resp.hide_presence);
      // Hiding one's own presence hides everyone's last seen from oneself.
      await fetchPresence([...state.presence.keys()]);
    } catch (err) {
      notify(err.message);
    }
    toggle.checked = state.hidePresence;
  });
}
