// The feed: Following, Recommended (others' hottest posts) and My posts; a
// new post shows at the top of My posts at once.
import { call, F, U, user, upload } from "../api.js";
import { $, el, fullTime, linkify, safeURL } from "../format.js";
import { state } from "../store.js";
import { reportButton } from "./report.js";

let current = "follow";
let loads = 0; // a later load wins over a slower earlier one

const lists = {
  follow: () => call(F("FeedFollow"), { num: 20 }),
  recommend: () => call(F("FeedRecommend"), { num: 20 }),
  mine: () => call(F("FeedOwn"), { num: 20 }),
};

export async function load(which = current) {
  current = which;
  for (const b of document.querySelectorAll("#feed .tabs button")) b.setAttribute("aria-selected", String(b.dataset.list === which));
  const mine = ++loads;
  const resp = await lists[which]();
  const cards = [];
  for (const f of resp.feed || []) cards.push(await feedCard(f));
  if (mine !== loads) return;
  const empty = { follow: "Nothing yet from people you follow.", recommend: "Nothing to recommend yet.", mine: "You have not posted yet." }[which];
  $("#feeds").replaceChildren(...(cards.length ? cards : [el("p", { className: "meta", textContent: empty })]));
}

export async function feedCard(f) {
  const author = await user(f.user_id);
  const at = new Date(f.created_at);
  const card = el("article", { className: "card feed" },
    el("div", { className: "meta" }, el("strong", { textContent: author.nickname }), ` · ${fullTime(at)}`),
    el("p", {}, linkify(f.content || "")));
  for (const image of f.images || []) card.append(el("img", { src: safeURL(image.img_url), alt: "", loading: "lazy" }));
  const like = el("button", { type: "button", className: "secondary", textContent: `${f.liked ? "Liked" : "Like"} · ${f.like_count || 0}`, ariaPressed: String(Boolean(f.liked)) });
  like.addEventListener("click", async () => {
    await call(F(f.liked ? "FeedUnLike" : "FeedLike"), { id: f.id });
    card.replaceWith(await feedCard((await call(F("FeedGet"), { id: f.id })).feed));
  });
  const comments = el("div", { className: "comments", hidden: true });
  const toggle = el("button", { type: "button", className: "secondary", textContent: `Comments · ${f.comment_count || 0}`, ariaExpanded: "false" });
  toggle.addEventListener("click", async () => {
    comments.hidden = !comments.hidden;
    toggle.ariaExpanded = String(!comments.hidden);
    if (!comments.hidden) await loadComments(f, comments);
  });
  const actions = el("div", { className: "actions" }, like, toggle);
  const authorId = String(f.user_id);
  if (authorId !== String(state.me.id)) {
    const following = state.following.has(authorId);
    const follow = el("button", { type: "button", className: "secondary", textContent: following ? "Following" : `Follow ${author.nickname}`, disabled: following });
    follow.addEventListener("click", async () => {
      await call(U("FollowUser"), { user_id: authorId });
      state.following.add(authorId);
      follow.textContent = "Following";
      follow.disabled = true;
    });
    actions.append(follow, reportButton("FEED", f.id, `${author.nickname}'s post`));
  }
  card.append(actions, comments);
  return card;
}

async function loadComments(f, box) {
  const resp = await call(F("FeedCommentList"), { feed_id: f.id, num: 50 });
  const items = [];
  for (const c of resp.comment || []) {
    const name = (await user(c.user_id)).nickname;
    items.push(el("div", {}, el("strong", { textContent: `${name} ` }), c.content,
      String(c.user_id) === String(state.me.id) ? null : reportButton("COMMENT", c.id, `${name}'s comment`, "link")));
  }
  const form = el("form", { className: "row" },
    el("input", { name: "content", placeholder: "Comment", required: true, maxLength: 1000, ariaLabel: "Comment" }),
    el("button", { textContent: "Reply" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await call(F("FeedCommentCreate"), { feed_id: f.id, content: form.content.value });
    await loadComments(f, box);
  });
  box.replaceChildren(...items, form);
}

export function setUp({ notify }) {
  $("#post").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const file = form.image.files[0];
      const content = form.content.value.trim();
      if (file) await call(F("FeedCreate"), { type: "Image", content, resource: [await upload(file, "image")] });
      else await call(F("FeedCreate"), { type: "Txt", content });
      form.reset();
      notify("Posted");
      await load("mine");
    } catch (err) {
      notify(err.message);
    }
  });
  $("#feed .tabs").addEventListener("click", (event) => {
    if (event.target.dataset.list) load(event.target.dataset.list).catch((err) => notify(err.message));
  });
}
