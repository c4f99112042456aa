// Parley's web client: one WebSocket to /ws carries every call (protobuf
// JSON of the named method) and every push; images go to /upload.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

// --- the socket -----------------------------------------------------------

class Socket {
  constructor(onPush, onClose) {
    this.nextId = 0;
    this.waiting = new Map();
    this.onPush = onPush;
    this.onClose = onClose;
  }

  open() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    this.ws = new WebSocket(url);
    this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    this.ws.onclose = (event) => {
      for (const { reject } of this.waiting.values()) reject(new Error("connection closed"));
      this.waiting.clear();
      this.onClose(event);
    };
    return new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error("cannot reach the server"));
    });
  }

  receive(frame) {
    const pending = frame.request_id && this.waiting.get(frame.request_id);
    if (pending) {
      this.waiting.delete(frame.request_id);
      if (frame.cmd === "error") pending.reject(new Error(frame.data.message));
      else pending.resolve(frame.data || {});
      return;
    }
    if (frame.cmd !== "error") this.onPush(frame);
  }

  // call sends cmd (a method's full name, "auth" or "ping") and resolves with
  // the answer's data.
  call(cmd, data = {}) {
    const id = ++this.nextId;
    this.ws.send(JSON.stringify({ cmd, request_id: id, data }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  close() {
    this.ws.onclose = null;
    this.ws.close();
  }
}

// --- state ----------------------------------------------------------------

const state = {
  socket: null,
  token: sessionStorage.getItem("parley.token"),
  me: null, // {id, nickname}
  users: new Map(), // id → user, cached
  conversations: [],
  open: null, // the open conversation
};

const status = (text) => {
  const node = $("#status");
  node.textContent = text;
  node.classList.add("show");
  clearTimeout(status.timer);
  status.timer = setTimeout(() => node.classList.remove("show"), 2500);
};

const call = (cmd, data) => state.socket.call(cmd, data);

async function user(id) {
  if (!state.users.has(id)) {
    const resp = await call("/user.UserService/GetUser", { id });
    state.users.set(id, resp.user);
  }
  return state.users.get(id);
}

async function findUser(nickname) {
  const resp = await call("/user.UserService/QueryUser", { keyword: nickname, page_size: 20 });
  const found = (resp.user || []).find((u) => u.nickname.toLowerCase() === nickname.toLowerCase());
  if (!found) throw new Error(`no user called ${nickname}`);
  return found;
}

// --- signing in -----------------------------------------------------------

async function connect() {
  state.socket = new Socket(onPush, () => {
    status("Disconnected, reconnecting…");
    setTimeout(() => start().catch(() => {}), 2000);
  });
  await state.socket.open();
}

async function signIn(token) {
  const auth = await call("auth", { token });
  state.token = token;
  sessionStorage.setItem("parley.token", token);
  state.me = await user(auth.user_id);
  $("#me-name").textContent = state.me.nickname;
  for (const id of ["#auth"]) $(id).hidden = true;
  for (const id of ["#tabs", "#me"]) $(id).hidden = false;
  showTab("chats");
  await refreshConversations();
}

async function start() {
  await connect();
  if (state.token) {
    try {
      await signIn(state.token);
      if (state.open) await openConversation(state.open.conversation_id);
      return;
    } catch {
      sessionStorage.removeItem("parley.token");
      state.token = null;
    }
  }
  $("#auth").hidden = false;
}

$("#auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const nickname = form.nickname.value.trim();
  const password = form.password.value;
  $("#auth-error").textContent = "";
  try {
    if (event.submitter.value === "signup") {
      await call("/user.UserService/CreateUser", { nickname, password, password_rpt: password });
    }
    const login = await call("/user.UserService/UserLogin", { nickname, password });
    await signIn(login.token);
  } catch (err) {
    $("#auth-error").textContent = err.message;
  }
});

$("#logout").addEventListener("click", () => {
  sessionStorage.removeItem("parley.token");
  location.reload();
});

// --- tabs -----------------------------------------------------------------

function showTab(tab) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.classList.toggle("active", button.dataset.tab === tab);
  }
  $("#chats").hidden = tab !== "chats";
  $("#feed").hidden = tab !== "feed";
  if (tab === "feed") loadFeeds();
}
$("#tabs").addEventListener("click", (event) => event.target.dataset.tab && showTab(event.target.dataset.tab));

// --- conversations --------------------------------------------------------

const conversationName = (c) =>
  c.peer_group?.name ? `# ${c.peer_group.name}` : c.peer_user?.nickname || c.conversation_id;

function preview(m) {
  if (!m) return "";
  if (m.text) return m.text.content;
  if (m.image) return "[photo]";
  return "…";
}

async function refreshConversations() {
  const resp = await call("/message.MessageService/ListConversations", {});
  state.conversations = resp.conversation || [];
  const list = $("#conversations");
  list.replaceChildren(
    ...state.conversations.map((c) => {
      const unread = Number(c.unread_count);
      const item = el("li", { className: state.open?.conversation_id === c.conversation_id ? "open" : "" },
        el("div", {}, el("strong", { textContent: conversationName(c) }), el("div", { className: "last", textContent: preview(c.last_message) })),
        unread > 0 ? el("span", { className: "badge", textContent: String(unread) }) : null);
      item.dataset.conversation = c.conversation_id;
      item.addEventListener("click", () => openConversation(c.conversation_id));
      return item;
    }),
  );
}

async function openConversation(conversationId, fallback) {
  const c = state.conversations.find((x) => x.conversation_id === conversationId) || fallback;
  state.open = c;
  $("#chat").classList.remove("empty");
  $("#chat-title").textContent = conversationName(c);
  $("#composer").hidden = false;
  $("#add-member").hidden = !c.peer_group;
  const resp = await call("/message.MessageService/SyncMessages", {
    conversation_id: conversationId,
    after_seq: String(Math.max(0, Number(c.last_seq || 0) - 50)),
    limit: 50,
  });
  $("#messages").replaceChildren();
  for (const m of resp.message || []) await showMessage(m);
  await markRead(resp.message || []);
  await refreshConversations();
}

async function markRead(messages) {
  if (!messages.length || !state.open) return;
  const last = messages[messages.length - 1];
  await call("/message.MessageService/MarkRead", { conversation_id: state.open.conversation_id, seq: last.seq });
}

async function showMessage(m) {
  const mine = String(m.from_user_id) === String(state.me.id);
  const from = mine ? state.me : await user(m.from_user_id);
  const item = el("li", { className: mine ? "mine" : "" }, el("span", { className: "who", textContent: from.nickname }));
  if (m.text) item.append(m.text.content);
  if (m.image) item.append(el("img", { src: m.image.url, alt: "image" }));
  item.dataset.seq = m.seq;
  const list = $("#messages");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function onPush(frame) {
  if (frame.cmd !== "message") return;
  const m = frame.data;
  if (state.open?.conversation_id === m.conversation_id) {
    await showMessage(m);
    await markRead([m]);
  }
  await refreshConversations();
}

$("#new-chat").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const peer = await findUser(event.target.nickname.value.trim());
    const [a, b] = [BigInt(state.me.id), BigInt(peer.id)].sort((x, y) => (x < y ? -1 : 1));
    event.target.reset();
    await openConversation(`u:${a}:${b}`, { conversation_id: `u:${a}:${b}`, peer_user: peer, last_seq: "0" });
  } catch (err) {
    status(err.message);
  }
});

$("#new-group").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const resp = await call("/group.GroupService/CreateGroup", { name: event.target.name.value.trim() });
    event.target.reset();
    const g = resp.group;
    await openConversation(`g:${g.id}`, { conversation_id: `g:${g.id}`, peer_group: g, last_seq: "0" });
  } catch (err) {
    status(err.message);
  }
});

$("#add-member").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const peer = await findUser(event.target.nickname.value.trim());
    await call("/group.GroupService/JoinGroup", { id: state.open.peer_group.id, user_id: peer.id });
    event.target.reset();
    status(`${peer.nickname} joined`);
  } catch (err) {
    status(err.message);
  }
});

// upload sends an image file to /upload and resolves with its URL.
async function upload(file) {
  const resp = await fetch("/upload", { method: "POST", headers: { Authorization: `Bearer ${state.token}` }, body: file });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.message);
  return body.url;
}

$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const c = state.open;
  const to = c.peer_group ? { to_group_id: c.peer_group.id } : { to_user_id: c.peer_user.id };
  const kind = c.peer_group ? "Group" : "User";
  try {
    const file = form.image.files[0];
    if (file) {
      const url = await upload(file);
      await call(`/message.MessageService/Send${kind}ImageMessage`, { ...to, image: { url, size: String(file.size) } });
    }
    const text = form.text.value.trim();
    if (text) await call(`/message.MessageService/Send${kind}TextMessage`, { ...to, text: { content: text } });
    form.reset();
  } catch (err) {
    status(err.message);
  }
});
$("#composer").image.addEventListener("change", () => $("#composer").requestSubmit());

// --- feed -----------------------------------------------------------------

let feedList = "follow";

async function loadFeeds() {
  const resp = feedList === "follow"
    ? await call("/feed.FeedService/FeedFollow", { num: 20 })
    : await call("/feed.FeedService/FeedRecommend", { num: 20 });
  const cards = [];
  for (const f of resp.feed || []) cards.push(await feedCard(f));
  $("#feeds").replaceChildren(...(cards.length ? cards : [el("p", { className: "meta", textContent: "Nothing here yet." })]));
}

async function feedCard(f) {
  const author = await user(f.user_id);
  const card = el("article", { className: "card feed" },
    el("div", { className: "meta", textContent: `${author.nickname} · ${new Date(f.created_at).toLocaleString()}` }),
    el("p", { textContent: f.content }));
  for (const image of f.images || []) card.append(el("img", { src: image.img_url, alt: "" }));
  const like = el("button", { className: "secondary", textContent: `${f.liked ? "Liked" : "Like"} · ${f.like_count}` });
  like.addEventListener("click", async () => {
    await call(`/feed.FeedService/${f.liked ? "FeedUnLike" : "FeedLike"}`, { id: f.id });
    card.replaceWith(await feedCard((await call("/feed.FeedService/FeedGet", { id: f.id })).feed));
  });
  const comments = el("div", { className: "comments", hidden: true });
  const toggle = el("button", { className: "secondary", textContent: `Comments · ${f.comment_count}` });
  toggle.addEventListener("click", async () => {
    comments.hidden = !comments.hidden;
    if (!comments.hidden) await loadComments(f, comments);
  });
  const actions = el("div", { className: "actions" }, like, toggle);
  if (String(f.user_id) !== String(state.me.id)) {
    const follow = el("button", { className: "secondary", textContent: `Follow ${author.nickname}` });
    follow.addEventListener("click", async () => {
      await call("/user.UserService/FollowUser", { user_id: f.user_id });
      follow.textContent = "Following";
      follow.disabled = true;
    });
    actions.append(follow);
  }
  card.append(actions, comments);
  return card;
}

async function loadComments(f, box) {
  const resp = await call("/feed.FeedService/FeedCommentList", { feed_id: f.id, num: 50 });
  const items = [];
  for (const c of resp.comment || []) items.push(el("div", {}, el("strong", { textContent: (await user(c.user_id)).nickname + " " }), c.content));
  const form = el("form", { className: "row" }, el("input", { name: "content", placeholder: "Comment", required: true, maxLength: 1000 }), el("button", { textContent: "Reply" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await call("/feed.FeedService/FeedCommentCreate", { feed_id: f.id, content: form.content.value });
    await loadComments(f, box);
  });
  box.replaceChildren(...items, form);
}

$("#post").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const file = form.image.files[0];
    const content = form.content.value.trim();
    if (file) {
      const url = await upload(file);
      await call("/feed.FeedService/FeedCreate", { type: "Image", content, resource: [url] });
    } else {
      await call("/feed.FeedService/FeedCreate", { type: "Txt", content });
    }
    form.reset();
    status("Posted");
    await loadFeeds();
  } catch (err) {
    status(err.message);
  }
});

document.querySelector("#feed .tabs").addEventListener("click", (event) => {
  if (!event.target.dataset.list) return;
  feedList = event.target.dataset.list;
  for (const b of document.querySelectorAll("#feed .tabs button")) b.classList.toggle("active", b === event.target);
  loadFeeds();
});

start().catch((err) => status(err.message));
