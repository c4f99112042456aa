// A person's card: follow, block, message, report, their posts (a group's card is
// views/group.js).
import { call, U, F, user, directId } from "../api.js";
import { $, el, avatar } from "../format.js";
import { state } from "../store.js";
import { open } from "./chat.js";
import { feedCard } from "./feed.js";
import { reportButton } from "./report.js";

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
    }), reportButton("USER", key, u.nickname));
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
