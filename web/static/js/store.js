// The client's state, in one place. Views read it and subscribe to what
// changes; the only writers are the functions below, so later features
// (group roles, …) add a field and a writer here, and an event their views
// listen to.
//
//   me             the signed-in user ({id, nickname, avatar_url, …})
//   users          id → user, as last fetched
//   conversations  conversation id → Conversation (the list's summaries,
//                  the caller's settings: pinned, muted_until, archived; a
//                  1:1 peer's marks: peer_delivered_seq, peer_read_seq)
//   histories      conversation id → History: the messages loaded, by seq;
//                  a group's receipt counts of the caller's own messages
//   open           the conversation on screen (an id), or null
//   following      ids of the users the caller follows; blocked, those it blocked
//   connection     "connecting" | "online" | "offline"
//   typing         conversation id → Map(user id → when its notice expires)
//   presence       user id → Presence ({online, last_seen_at}), beside users
//                  so that a user fetched again keeps it
//   hidePresence   the caller's privacy setting
//
// Events: "conversations" (the list changed), "history" (id: messages of a
// conversation were added), "open" (id), "connection" (state), "me",
// "typing" (id), "receipts" (id: a peer's marks or a group's counts
// changed), "presence".
// Ids are strings: protobuf JSON writes uint64 so.

export const state = {
  me: null,
  users: new Map(),
  conversations: new Map(),
  histories: new Map(),
  open: null,
  token: null, // the session's token (js/session.js keeps it)
  connection: "connecting",
  following: new Set(),
  blocked: new Set(),
  typing: new Map(),
  presence: new Map(),
  hidePresence: false,
};

const listeners = new Map();

export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
}

export function emit(event, payload) {
  for (const fn of listeners.get(event) || []) fn(payload);
}

// History is one conversation's loaded messages: one run from oldest to
// newest seq (pages are only ever added next to what is there; the only
// messages missing within it are ones the user deleted for itself),
// each message once whatever route it came by (a push, a sync, a page).
// The conversation's stream numbers messages and changes (edits, recalls,
// reactions, deletes-for-me) together: cursor is the last seq applied of
// either, what catching up starts after. Entries the user does not see
// (another user's delete-for-me) leave holes in the seqs: a sync after the
// cursor simply skips them. A message's reactions are on the message.
export class History {
  constructor() {
    this.bySeq = new Map();
    this.oldest = 0; // 0: nothing loaded
    this.newest = 0; // the newest message's seq
    this.cursor = 0; // the last entry applied, a message or a change
    this.complete = false; // the oldest the caller may see is loaded
    this.dropped = new Set(); // seqs of messages deleted for the user
    // A group's receipts of the caller's messages (GetReceipts): seq →
    // {read, delivered, members, stale}; stale once a receipt frame says
    // marks moved past it.
    this.receipts = new Map();
  }

  // change applies a change: the message it carries replaces the copy
  // with the same seq, if loaded; a recall also marks the quotes of the
  // loaded replies to it (as the server has them); a delete-for-me drops
  // the message. It returns the loaded messages that changed (a dropped one
  // is no longer in bySeq). A pushed change's Reaction.mine is its actor's:
  // viewer (the signed-in user's id, for a push) keeps its own flags when
  // the actor is someone else. A sync's changes are the caller's already.
  change(c, viewer) {
    // A change no newer than what the message holds (a push overtaken by a
    // sync) is old news; nothing is loaded yet: the first page will have it.
    this.changedAt ||= new Map();
    if (Number(c.seq) <= (this.changedAt.get(String(c.message.id)) || 0)) return [];
    this.changedAt.set(String(c.message.id), Number(c.seq));
    if (this.newest === 0) return [];
    this.cursor = Math.max(this.cursor, Number(c.seq));
    const changed = [];
    const seq = Number(c.message.seq);
    const loaded = this.bySeq.get(seq);
    if (c.kind === "CHANGE_KIND_DELETED_FOR_ME") {
      this.dropped.add(seq); // not taken back from a page that was already on its way
      if (loaded) {
        this.bySeq.delete(seq);
        changed.push(loaded);
      }
      return changed;
    }
    if (loaded) {
      let m = c.message;
      if (viewer && String(c.actor_id) !== String(viewer)) {
        const mine = new Set((loaded.reactions || []).filter((r) => r.mine).map((r) => r.emoji));
        m = { ...m, reactions: (m.reactions || []).map((r) => ({ ...r, mine: mine.has(r.emoji) })) };
      }
      this.bySeq.set(seq, m);
      changed.push(m);
    }
    if (c.kind === "CHANGE_KIND_RECALLED") {
      for (const [s, m] of this.bySeq) {
        if (m.reply_to && String(m.reply_to.id) === String(c.message.id) && !m.reply_to.recalled) {
          const quoting = { ...m, reply_to: { ...m.reply_to, recalled: true, preview: "" } };
          this.bySeq.set(s, quoting);
          changed.push(quoting);
        }
      }
    }
    return changed;
  }

  // add merges messages (any order, repeats allowed); it returns the ones
  // that were new.
  add(messages) {
    const added = [];
    for (const m of messages) {
      const seq = Number(m.seq);
      if (this.bySeq.has(seq) || this.dropped.has(seq)) continue;
      this.bySeq.set(seq, m);
      added.push(m);
      this.oldest = this.oldest === 0 ? seq : Math.min(this.oldest, seq);
      this.newest = Math.max(this.newest, seq);
      this.cursor = Math.max(this.cursor, seq);
    }
    return added;
  }

  // messages in seq order.
  messages() {
    return [...this.bySeq.values()].sort((a, b) => Number(a.seq) - Number(b.seq));
  }
}

export function history(conversationId) {
  if (!state.histories.has(conversationId)) state.histories.set(conversationId, new History());
  return state.histories.get(conversationId);
}

// keepMarks gives c the peer's marks old had if they are further (marks
// never move back: a receipt frame may overtake the list it answers);
// true if c's are further than old's.
function keepMarks(c, old) {
  if (!old) return false;
  const moved = Number(c.peer_delivered_seq || 0) > Number(old.peer_delivered_seq || 0) || Number(c.peer_read_seq || 0) > Number(old.peer_read_seq || 0);
  for (const k of ["peer_delivered_seq", "peer_read_seq"]) c[k] = String(Math.max(Number(c[k] || 0), Number(old[k] || 0)));
  return moved;
}

export function setConversations(list) {
  const moved = list.filter((c) => keepMarks(c, state.conversations.get(c.conversation_id)));
  state.conversations = new Map(list.map((c) => [c.conversation_id, c]));
  emit("conversations");
  for (const c of moved) emit("receipts", c.conversation_id);
}

// putConversation replaces one conversation (as UpdateConversation answers
// it), keeping its place in the list.
export function putConversation(c) {
  keepMarks(c, state.conversations.get(c.conversation_id));
  state.conversations.set(c.conversation_id, c);
  emit("conversations");
}

// muted reports whether conversation c is muted now.
export const muted = (c) => !!c?.muted_until && Date.parse(c.muted_until) > Date.now();

// unreadTotal is the sum of the unread counts that call for attention:
// muted conversations count in the list only.
export function unreadTotal() {
  let n = 0;
  for (const c of state.conversations.values()) if (!muted(c)) n += Number(c.unread_count || 0);
  return n;
}

// setPeerMarks moves a 1:1 conversation's peer marks forward: it has
// everything up to delivered, has read up to read (a read implies
// delivery).
export function setPeerMarks(id, delivered, read) {
  const c = state.conversations.get(id);
  if (!c) return;
  const d = Math.max(Number(c.peer_delivered_seq || 0), Number(delivered || 0), Number(read || 0));
  const r = Math.max(Number(c.peer_read_seq || 0), Number(read || 0));
  if (d === Number(c.peer_delivered_seq || 0) && r === Number(c.peer_read_seq || 0)) return;
  c.peer_delivered_seq = String(d);
  c.peer_read_seq = String(r);
  emit("receipts", id);
}

// setReceipts keeps the receipt counts of message seq of group
// conversation id (null: mark every count up to seq stale).
export function setReceipts(id, seq, counts) {
  const h = history(id);
  if (counts) {
    h.receipts.set(seq, counts);
    emit("receipts", id);
    return;
  }
  for (const [s, r] of h.receipts) if (s <= seq) r.stale = true;
}

// TYPING_TTL is how long a typing notice lasts without another.
const TYPING_TTL = 6000;
const typingTimers = new Map();

// setTyping records that user userId is typing in conversation id, or
// not (a stop, its message arrived, or its notice expired).
export function setTyping(id, userId, typing) {
  const key = `${id} ${userId}`;
  clearTimeout(typingTimers.get(key));
  typingTimers.delete(key);
  let who = state.typing.get(id);
  if (typing) {
    if (!who) state.typing.set(id, (who = new Map()));
    who.set(String(userId), Date.now() + TYPING_TTL);
    typingTimers.set(key, setTimeout(() => setTyping(id, userId, false), TYPING_TTL));
  } else {
    if (!who?.delete(String(userId))) return;
    if (!who.size) state.typing.delete(id);
  }
  emit("typing", id);
}

// typers lists who is typing in conversation id (user ids).
export const typers = (id) => [...(state.typing.get(id)?.keys() || [])];

export function setPresence(list) {
  for (const p of list) state.presence.set(String(p.user_id), p);
  emit("presence");
}

export function setHidePresence(hide) {
  state.hidePresence = hide;
  emit("presence");
}

export function setConnection(s) {
  state.connection = s;
  emit("connection", s);
}

export function clear() {
  state.me = null;
  state.users.clear();
  state.conversations.clear();
  state.histories.clear();
  state.following.clear();
  state.blocked.clear();
  for (const t of typingTimers.values()) clearTimeout(t);
  typingTimers.clear();
  state.typing.clear();
  state.presence.clear();
  state.hidePresence = false;
  state.open = null;
}
