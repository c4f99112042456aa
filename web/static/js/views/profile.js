// A person's card (follow, block, message, their posts) and a group's
// (members, paged; join, leave, open the chat).
import { call, U, G, F, user, directId, remember } from "../api.js";
import { $, el, avatar } from "../format.js";
import { state } from "../store.js";
import { open } from "./chat.js";
import { feedCard } from "./feed.js";

const MEMBERS_PAGE = 20;

async function allIds(method, field) {
  const ids = new Set();
  for (let page = 1; page <= 10; page++) {
    const resp = await call(U(method), { page, page_size: 100 });
    for (const u of resp[field] || []) ids.add(String(u.id));
    if ((resp[field] || []).length < 100) break;
  }
  return ids;
}

// loadRelations loads the caller's follows and blocks, on sign-in.
export async function loadRelations() {
  state.following = await allIds("ListFollowing", "user");
  state.blocked = await allIds("ListBlocked", "user");
}

function button(text, onClick, secondary = true) {
  const b = el("button", { type: "button", className: secondary ? "secondary" : "", textContent: text });
  b.addEventListener("click", onClick);
  return b;
}

export async function showProfile(id, notify = () => {}) {
  const dialog = $("#profile");
  const u = await user(id);
  const key = String(u.id);
  const mine = key === String(state.me.id);
  const actions = el("div", { className: "actions" });
  const draw = () => {
    actions.replaceChildren();
    if (mine) return;
    actions.append(button("Message", () => {
      dialog.close();
      const cid = directId(u.id);
      open(state.conversations.get(cid) || { conversation_id: cid, peer_user: u, last_seq: "0" });
    }, false));
    const following = state.following.has(key);
    actions.append(button(following ? "Unfollow" : "Follow", async () => {
      await call(U(following ? "UnfollowUser" : "FollowUser"), { user_id: key });
      state.following[following ? "delete" : "add"](key);
      draw();
    }));
    const blocked = state.blocked.has(key);
    actions.append(button(blocked ? "Unblock" : "Block", async () => {
      try {
        await call(U(blocked ? "UnblockUser" : "BlockUser"), { user_id: key });
        state.blocked[blocked ? "delete" : "add"](key);
        draw();
      } catch (err) {
        notify(err.message);
      }
    }));
  };
  draw();
  const posts = el("div", { className: "posts" }, el("p", { className: "meta", textContent: "Loading posts…" }));
  dialog.replaceChildren(...[
    el("header", {}, avatar(u, u.nickname), el("h2", { id: "profile-name", textContent: u.nickname })),
    actions,
    el("h3", { textContent: mine ? "My posts" : "Posts" }),
    posts,
    el("form", { method: "dialog" }, el("button", { className: "secondary", textContent: "Close" }))].filter(Boolean));
  if (!dialog.open) dialog.showModal();
  try {
    const resp = mine
      ? await call(F("FeedOwn"), { num: 10 })
      : await call(F("FeedQuery"), { user_id: key, num: 10 });
    const cards = [];
    for (const f of resp.feed || []) cards.push(await feedCard(f));
    posts.replaceChildren(...(cards.length ? cards : [el("p", { className: "meta", textContent: "No posts yet." })]));
  } catch (err) {
    posts.replaceChildren(el("p", { className: "error", textContent: `Posts could not be loaded: ${err.message}` }));
  }
}

export async function showGroup(id, notify = () => {}) {
  const dialog = $("#group-info");
  const { group: g } = await call(G("GetGroup"), { id: String(id) });
  const cid = `g:${g.id}`;
  const members = el("ul", { className: "members", ariaLabel: "Members" });
  const count = el("span", { className: "meta" });
  let page = 0;
  let member = false;
  const more = button("More members", () => loadPage().catch((err) => notify(err.message)));
  const loadPage = async () => {
    page++;
    const resp = await call(G("GetGroupUser"), { id: g.id, page, page_size: MEMBERS_PAGE });
    member = true; // the members are shown to members only
    remember(resp.user);
    for (const u of resp.user || []) {
      const item = el("button", { type: "button", className: "member" }, avatar(u, u.nickname, true), el("span", { textContent: u.nickname }),
        String(u.id) === String(g.user_id) ? el("span", { className: "meta", textContent: "owner" }) : null);
      item.addEventListener("click", () => { dialog.close(); showProfile(u.id, notify).catch((err) => notify(err.message)); });
      members.append(el("li", {}, item));
    }
    const total = Number(resp.pager?.total_rows || 0);
    count.textContent = `${total} ${total === 1 ? "member" : "members"}`;
    more.hidden = page * MEMBERS_PAGE >= total;
  };
  const actions = el("div", { className: "actions" });
  const draw = () => {
    actions.replaceChildren();
    add.hidden = !member;
    if (member) {
      actions.append(button("Open chat", () => {
        dialog.close();
        open(state.conversations.get(cid) || { conversation_id: cid, peer_group: g, last_seq: "0" });
      }, false));
      if (String(g.user_id) !== String(state.me.id)) {
        actions.append(button("Leave", async () => {
          await call(G("QuitGroup"), { id: g.id });
          dialog.close();
          notify(`You left ${g.name}`);
        }));
      }
    } else {
      actions.append(button("Join", async () => {
        try {
          await call(G("JoinGroup"), { id: g.id });
          member = true;
          members.replaceChildren();
          page = 0;
          await loadPage();
          draw();
        } catch (err) {
          notify(err.message);
        }
      }, false));
    }
  };
  const add = el("form", { className: "row" },
    el("label", { className: "visually-hidden", htmlFor: "add-member-name", textContent: "Add a member by nickname" }),
    el("input", { id: "add-member-name", name: "nickname", placeholder: "Add a member: nickname", required: true }),
    el("button", { textContent: "Add" }));
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const resp = await call(U("QueryUser"), { keyword: add.nickname.value.trim(), page_size: 100 });
      const u = (resp.user || []).find((x) => x.nickname.toLowerCase() === add.nickname.value.trim().toLowerCase());
      if (!u) throw new Error(`no user called ${add.nickname.value.trim()}`);
      await call(G("JoinGroup"), { id: g.id, user_id: u.id });
      add.reset();
      members.replaceChildren();
      page = 0;
      await loadPage();
    } catch (err) {
      notify(err.message);
    }
  });
  dialog.replaceChildren(...[
    el("header", {}, avatar(g, g.name), el("div", {}, el("h2", { id: "group-name", textContent: `# ${g.name}` }),
      count)),
    g.introduction ? el("p", { textContent: g.introduction }) : null,
    actions,
    el("h3", { textContent: "Members" }),
    members,
    more,
    add,
    el("form", { method: "dialog" }, el("button", { className: "secondary", textContent: "Close" }))].filter(Boolean));
  try {
    await loadPage();
  } catch (err) {
    if (err.code !== 7) throw err; // PermissionDenied: members only
    members.replaceChildren(el("li", { className: "meta", textContent: "Join to see who is here." }));
    more.hidden = true;
  }
  draw();
  if (!dialog.open) dialog.showModal();
}
