// Parley's web client: one WebSocket to /ws carries every call and push
// (js/protocol.js); the state lives in js/store.js; each view is a module
// under js/views. This file signs in and wires them together.
import { setConnection, call, U, user } from "./api.js";
import * as attention from "./attention.js";
import { $, el, avatar, size } from "./format.js";
import { preview } from "./messages.js";
import { Connection } from "./protocol.js";
import * as session from "./session.js";
import * as signals from "./signals.js";
import { state, clear, emit, setConnection as setConnectionState, on } from "./store.js";
import * as chat from "./views/chat.js";
import * as conversations from "./views/conversations.js";
import * as feed from "./views/feed.js";
import * as conversationMenu from "./views/menu.js";
import * as group from "./views/group.js";
import { loadRelations, showProfile } from "./views/profile.js";
import * as receipts from "./views/receipts.js";
import * as search from "./views/search.js";

function notify(text) {
  const node = $("#status");
  node.textContent = text;
  node.classList.add("show");
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => node.classList.remove("show"), 3000);
}

// authedAs is the user the open socket is signed in as (null: none yet).
let authedAs = null;

const conn = new Connection({
  onState: setConnectionState,
  keepOpen: () => state.token !== null,
  onPush: (frame) => onPush(frame).catch(() => {}),
  // Every (re)opened socket is signed in again, then catches up.
  onOpen: async () => {
    authedAs = null;
    if (!state.token) return;
    try {
      authedAs = (await conn.send("auth", { token: state.token })).user_id;
    } catch (err) {
      if (err.code === 16) return signedOut(); // Unauthenticated: the token is no longer valid (expired, revoked)
      throw err;
    }
    // After onOpen returns, so the calls go out on the open socket: catch up,
    // or finish a sign-in that could not reach the server when it began.
    if (state.me) setTimeout(() => Promise.all([conversations.refresh(), chat.resync()]).catch(() => {}));
    else if (!signingIn) setTimeout(() => signIn(state.token).catch(() => {}));
  },
});
setConnection(conn);

async function onPush(frame) {
  if (!state.me || signals.onPush(frame)) return;
  if (frame.cmd === "change") {
    Promise.resolve(conversations.onChange(frame.data)).catch(() => {});
    return chat.changed(frame.data);
  }
  if (frame.cmd !== "message") return;
  const m = frame.data;
  const theirs = String(m.from_user_id) !== String(state.me.id);
  await conversations.onMessage(m);
  signals.fromPeer(m.conversation_id, [m]);
  if (theirs) signals.delivered(m.conversation_id, m.seq);
  await chat.received(m);
  if (m.group_event) group.onEvent(m);
  // Of a group's events, only those about oneself call for attention.
  const aboutMe = !m.group_event || String(m.group_event.user_id) === String(state.me.id);
  if (theirs && aboutMe) attention.alert(m, (await user(m.from_user_id)).nickname, preview(m));
}

// An invite link (#join=<code>) opened by a signed-in user joins its group
// and opens the chat; signed out, it waits for the sign-in.
async function joinFromLink() {
  const code = new URLSearchParams(location.hash.slice(1)).get("join");
  if (!code || !state.me) return;
  window.history.replaceState(null, "", location.pathname + location.search);
  try {
    const g = await group.joinByInvite(code);
    notify(`You are in ${g.name}`);
  } catch (err) {
    notify(`The invite link did not work: ${err.message}`);
  }
}
addEventListener("hashchange", () => joinFromLink());

function showTab(tab) {
  for (const b of document.querySelectorAll("#tabs button")) {
    if (b.dataset.tab === tab) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  $("#chats").hidden = tab !== "chats";
  $("#feed").hidden = tab !== "feed";
  if (tab === "feed") feed.load().catch((err) => notify(err.message));
  else if (state.open) chat.markRead(state.open).catch(() => {});
}

// signIn signs in with token, once at a time (the form, the page's start
// and a reconnect may all ask).
let signingIn = null;
function signIn(token, remember) {
  signingIn ||= signedIn(token, remember).finally(() => { signingIn = null; });
  return signingIn;
}

async function signedIn(token, remember) {
  state.token = token;
  if (remember !== undefined) session.keep(token, remember);
  await conn.open(); // a socket opened now signs in as it opens
  if (!authedAs) authedAs = (await conn.send("auth", { token })).user_id;
  state.me = await user(authedAs);
  emit("me");
  $("#me-button").replaceChildren(avatar(state.me, state.me.nickname, true), el("span", { className: "name", textContent: state.me.nickname }));
  $("#me-button").ariaLabel = `${state.me.nickname}: menu`;
  $("#auth").hidden = true;
  $("#tabs").hidden = false;
  $("#me").hidden = false;
  showTab("chats");
  await Promise.all([conversations.refresh(), loadRelations(), showUploadLimit(), signals.loadPrivacy()]);
  joinFromLink(); // after the list: its chat opens over it
}

async function showUploadLimit() {
  const resp = await fetch("/upload/limits").catch(() => null);
  if (!resp?.ok) return;
  const { max_upload_bytes: max } = await resp.json();
  $("#upload-limit").textContent = `Photos and files up to ${size(max)}.`;
  $("#file-label").title = `Send a file (up to ${size(max)})`;
}

// signedOut forgets the token and shows the sign-in form.
function signedOut() {
  session.forget();
  state.token = null;
  authedAs = null;
  chat.close();
  conversationMenu.close();
  signals.reset();
  clear();
  emit("conversations");
  $("#auth").hidden = false;
  for (const id of ["#tabs", "#me", "#chats", "#feed"]) $(id).hidden = true;
  $("#auth-form [name=nickname]").focus();
}

$("#auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const nickname = form.nickname.value.trim();
  const password = form.password.value;
  $("#auth-error").textContent = "";
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true; // one sign-in at a time
  try {
    if (event.submitter?.value === "signup") {
      await call(U("CreateUser"), { nickname, password, password_rpt: password });
    }
    const login = await call(U("UserLogin"), { nickname, password });
    await signIn(login.token, form.remember.checked);
    form.reset();
  } catch (err) {
    $("#auth-error").textContent = err.message;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
});

$("#logout").addEventListener("click", () => {
  session.logOutEverywhere();
  location.reload();
});
session.onLogOutElsewhere(() => location.reload());

$("#tabs").addEventListener("click", (event) => event.target.dataset.tab && showTab(event.target.dataset.tab));

const menu = $("#me-menu");
$("#me-button").addEventListener("click", () => {
  menu.hidden = !menu.hidden;
  $("#me-button").setAttribute("aria-expanded", String(!menu.hidden));
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !menu.hidden) {
    menu.hidden = true;
    $("#me-button").setAttribute("aria-expanded", "false");
    $("#me-button").focus();
  }
});
$("#my-profile").addEventListener("click", () => {
  menu.hidden = true;
  showProfile(state.me.id, notify).catch((err) => notify(err.message));
});
$("#chat-info").addEventListener("click", () => {
  const c = state.conversations.get(state.open);
  if (c.peer_group) group.showGroup(c.peer_group.id, notify).catch((err) => notify(err.message));
  else showProfile(c.peer_user.id, notify).catch((err) => notify(err.message));
});

$("#new-group").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const resp = await call("/group.GroupService/CreateGroup", { name: event.target.name.value.trim() });
    event.target.reset();
    event.target.closest("details").open = false;
    const g = resp.group;
    await chat.open({ conversation_id: `g:${g.id}`, peer_group: g, last_seq: "0" });
  } catch (err) {
    notify(err.message);
  }
});

on("connection", (s) => {
  const node = $("#connection");
  node.textContent = { connecting: "Connecting…", online: "", offline: "Offline: reconnecting…" }[s];
  node.classList.toggle("offline", s === "offline");
});

chat.setUp({ notify });
conversations.setUp();
conversationMenu.setUp({ notify });
receipts.setUp({ notify });
signals.setUp({ notify });
feed.setUp({ notify });
group.setUp({ notify });
search.setUp();
attention.setUp({ notify });

async function start() {
  state.token = session.token();
  if (state.token) {
    try {
      await signIn(state.token);
    } catch (err) {
      // Only a refused token is forgotten: an unreachable server is retried
      // (the socket reconnects and signs in), "Remember me" kept.
      if (!state.me && err.code === 16) signedOut();
      else if (!state.me) notify(`${err.message}: retrying`);
    }
    // The first screen is usable: the e2e run reads this as time to interactive.
    performance.mark("parley-interactive");
  } else {
    signedOut();
    performance.mark("parley-interactive");
    await conn.open();
  }
}
start().catch((err) => notify(err.message));
