// How each message type looks: body(m) is the bubble's content, preview(m)
// the one line the conversation list shows. Types the page does not know
// still show as something ("unsupported message"), never an empty bubble.
// A group event (GROUP_EVENT) is a sentence, "ann made bob an admin": the
// timeline's system line and the list's preview alike.
import { user } from "./api.js";
import { el, linkify, safeURL, size, duration, shortWhen } from "./format.js";
import { state } from "./store.js";

const POLICY = { JOIN_POLICY_APPROVAL: "approval-only", JOIN_POLICY_INVITE_ONLY: "invite-only" };
const policyWord = (p) => POLICY[p] || "open";
const ROLE = { GROUP_ROLE_ADMIN: "an admin", GROUP_ROLE_OWNER: "the owner" };
const DEFAULTS = { join_policy: "JOIN_POLICY_OPEN", mute_all: false, history_visible: false };

// eventIds are the users a group event names (its actor and its subject).
const eventIds = (ev) => [ev.actor_id, ev.user_id].filter((id) => id && String(id) !== "0").map(String);

// named resolves the names event message m needs (the page's user cache),
// so that eventText can say them; knowsNames: nothing to ask (asked once).
const asked = new Set();
export const named = (m) => Promise.all(eventIds(m.group_event).map((id) => {
  asked.add(id);
  return user(id).catch(() => null);
}));
export const knowsNames = (m) => eventIds(m.group_event).every((id) => state.users.has(id) || asked.has(id));

// policyBefore is the group's settings before policy event m, as far as the
// loaded history says: the previous policy event, or the defaults when the
// history starts at the group's first message; null when unknown.
function policyBefore(m) {
  const h = state.histories.get(m.conversation_id);
  if (!h) return null;
  let before = null;
  for (const x of h.messages()) {
    if (Number(x.seq) >= Number(m.seq)) break;
    if (x.group_event?.kind === "KIND_POLICY_CHANGED") before = x.group_event;
  }
  return before || (h.complete && h.oldest === 1 ? DEFAULTS : null);
}

const list = (parts) => (parts.length < 2 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`);

// eventText is the sentence of group event message m.
export function eventText(m) {
  const ev = m.group_event;
  const name = (id) => state.users.get(String(id))?.nickname || "Someone";
  const a = name(ev.actor_id);
  const u = name(ev.user_id);
  switch (ev.kind) {
    case "KIND_JOINED": return String(ev.actor_id) === String(ev.user_id) || !Number(ev.actor_id) ? `${u} joined` : `${a} added ${u}`;
    case "KIND_LEFT": return `${u} left`;
    case "KIND_KICKED": return `${a} removed ${u}`;
    case "KIND_ROLE_CHANGED": return `${a} made ${u} ${ROLE[ev.role] || "a member"}`;
    case "KIND_MUTED": return ev.until ? `${a} muted ${u} until ${shortWhen(new Date(ev.until))}` : `${a} unmuted ${u}`;
    case "KIND_BANNED": return `${a} banned ${u}${ev.reason ? ` (${ev.reason})` : ""}`;
    case "KIND_UNBANNED": return `${a} unbanned ${u}`;
    case "KIND_OWNER_TRANSFERRED": return `${a} made ${u} the owner`;
    case "KIND_POLICY_CHANGED": {
      const was = policyBefore(m);
      const parts = [];
      if (was && was.join_policy !== ev.join_policy) parts.push(`made the group ${policyWord(ev.join_policy)}`);
      if (was && !was.mute_all !== !ev.mute_all) parts.push(ev.mute_all ? "muted everyone" : "unmuted everyone");
      if (was && !was.history_visible !== !ev.history_visible) parts.push(ev.history_visible ? "made history visible to new members" : "hid history from new members");
      if (parts.length) return `${a} ${list(parts)}`;
      return `${a} set the group to ${policyWord(ev.join_policy)}, ${ev.mute_all ? "everyone muted" : "everyone may send"}, history ${ev.history_visible ? "visible to" : "hidden from"} new members`;
    }
    default: return "The group changed";
  }
}

export function preview(m) {
  if (!m) return "";
  if (m.recalled) return "Message recalled";
  if (m.group_event) return eventText(m);
  if (m.text) return m.text.content;
  if (m.image) return "📷 Photo";
  if (m.file) return `📎 ${m.file.name || "File"}`;
  if (m.location) return `📍 ${m.location.desc || "Location"}`;
  if (m.sound) return `🎤 Voice message (${duration(m.sound.seconds || 0)})`;
  if (m.video) return "🎬 Video";
  if (m.face) return m.face.symbol || "Sticker";
  return "Unsupported message";
}

// quote is the box above a reply: who wrote the message it answers, and
// the one line it showed then.
export function quote(reply, senderName) {
  return el("blockquote", { className: "quote" },
    el("strong", { textContent: senderName }), el("span", { textContent: reply.recalled ? "Recalled message" : reply.preview || "" }));
}

export function body(m, { onImage } = {}) {
  if (m.recalled) return el("p", { className: "recalled", textContent: "This message was recalled" });
  if (m.text) return el("p", { className: "text" }, linkify(m.text.content));
  if (m.image) {
    const url = safeURL(m.image.url);
    const img = el("img", { className: "photo", src: url, alt: "Photo", loading: "lazy" });
    if (m.image.width && m.image.height) img.style.aspectRatio = `${m.image.width} / ${m.image.height}`;
    const open = el("button", { className: "photo-button", type: "button", title: "Open the photo" }, img);
    open.addEventListener("click", () => onImage?.(url));
    return open;
  }
  if (m.file) {
    const url = safeURL(m.file.url);
    return el("a", { className: "file", href: url, download: m.file.name || "", target: "_blank", rel: "noopener noreferrer" },
      el("img", { className: "icon-img", src: "icons/file.svg", alt: "" }),
      el("span", {}, el("strong", { textContent: m.file.name || "File" }), el("span", { className: "meta", textContent: ` ${size(m.file.size || 0)}` })));
  }
  if (m.location) {
    const { lat = 0, lng = 0, desc = "" } = m.location;
    // A link to a map, never map tiles loaded by the page.
    const map = `https://www.openstreetmap.org/?mlat=${encodeURIComponent(lat)}&mlon=${encodeURIComponent(lng)}#map=16/${encodeURIComponent(lat)}/${encodeURIComponent(lng)}`;
    return el("div", { className: "location" },
      el("img", { className: "icon-img", src: "icons/pin.svg", alt: "" }),
      el("span", {}, desc ? el("strong", { textContent: desc }) : null,
        el("span", { className: "meta", textContent: ` ${Number(lat).toFixed(5)}, ${Number(lng).toFixed(5)} ` }),
        el("a", { href: map, textContent: "Open map", target: "_blank", rel: "noopener noreferrer" })));
  }
  if (m.sound) {
    return el("div", { className: "sound" },
      el("audio", { controls: true, preload: "none", src: safeURL(m.sound.url), ariaLabel: "Voice message" }),
      el("span", { className: "meta", textContent: duration(m.sound.seconds || 0) }));
  }
  if (m.video) {
    return el("video", { className: "video", controls: true, preload: "none", src: safeURL(m.video.url), poster: safeURL(m.video.thumb_url || ""), ariaLabel: "Video" });
  }
  if (m.face) return el("p", { className: "face", textContent: m.face.symbol || "🙂", ariaLabel: "Sticker" });
  return el("p", { className: "meta", textContent: "Unsupported message" });
}
