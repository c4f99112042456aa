// The calls the views make, over the one connection; a user is fetched once
// and cached in the store.
import { state } from "./store.js";

let conn = null;

export const setConnection = (c) => { conn = c; };

export const call = (method, data) => conn.call(method, data);

export const U = (m) => `/user.UserService/${m}`;
export const G = (m) => `/group.GroupService/${m}`;
export const F = (m) => `/feed.FeedService/${m}`;
export const M = (m) => `/message.MessageService/${m}`;
export const C = (m) => `/common.CommonService/${m}`;

export async function user(id) {
  const key = String(id);
  if (!state.users.has(key)) {
    const resp = await call(U("GetUser"), { id: key });
    state.users.set(key, resp.user);
  }
  return state.users.get(key);
}

export function remember(users) {
  for (const u of users || []) state.users.set(String(u.id), u);
}

// directId is the conversation id of the caller and another user.
export function directId(otherId) {
  const [a, b] = [BigInt(state.me.id), BigInt(otherId)].sort((x, y) => (x < y ? -1 : 1));
  return `u:${a}:${b}`;
}

// upload posts a file to /upload (images) or /upload/file (anything) and
// resolves with its link.
export async function upload(file, kind) {
  const resp = await fetch(kind === "image" ? "/upload" : "/upload/file", {
    method: "POST", headers: { Authorization: `Bearer ${state.token}` }, body: file,
  });
  const answer = await resp.json().catch(() => ({ message: `upload failed (${resp.status})` }));
  if (!resp.ok) throw new Error(answer.message);
  return answer.url;
}
