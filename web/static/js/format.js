// Formatting shared by the views. Every user-provided string becomes a text
// node: nothing here writes HTML.

export const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element: props are assigned (textContent, className, …),
// children appended (strings become text).
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export const time = (date) => timeFormat.format(date);

const shortFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
// shortWhen is a moment soon or lately: "14:05" today, else "3 Mar, 14:05".
export const shortWhen = (date) => (dayKey(date) === dayKey(new Date()) ? time(date) : shortFormat.format(date));

// ago says how long ago date was: "just now", "5 minutes ago",
// "yesterday", "on 3 March 2025" (a week or more).
export function ago(date) {
  const s = (Date.now() - date) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return relative.format(-Math.floor(s / 60), "minute");
  if (s < 86400) return relative.format(-Math.floor(s / 3600), "hour");
  if (s < 7 * 86400) return relative.format(-Math.round(s / 86400), "day");
  return `on ${dateFormat.format(date)}`;
}
export const fullTime = (date) => fullFormat.format(date);

// dayKey is the local calendar day of date, for day separators.
export const dayKey = (date) => `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;

export function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return "Today";
  if (dayKey(date) === dayKey(yesterday)) return "Yesterday";
  return dayFormat.format(date);
}

export function size(bytes) {
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function duration(seconds) {
  const s = Number(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const urlPattern = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;

// linkify is text with its http(s) URLs as links (opened in a new tab,
// without the page's referrer or a handle on it): a list of nodes.
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(urlPattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(el("a", { href: match[0], textContent: match[0], target: "_blank", rel: "noopener noreferrer" }));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

// safeURL is url if it is http(s), else "" (so a message cannot smuggle a
// javascript: or data: link); the CSP decides which origins may be loaded.
export function safeURL(url) {
  if (!url) return "";
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : "";
  } catch {
    return "";
  }
}

// avatar is a user's or group's picture, or their initial on a colour
// derived from the id.
export function avatar(entity, name, small = false) {
  const url = entity?.avatar_url && safeURL(entity.avatar_url);
  const className = small ? "avatar small" : "avatar";
  if (url) return el("img", { className, src: url, alt: "" });
  const hue = (Number(entity?.id || 0) * 47) % 360;
  const node = el("span", { className, textContent: (name || "?").trim().charAt(0).toUpperCase() || "?" });
  node.style.setProperty("--hue", hue);
  node.setAttribute("aria-hidden", "true");
  return node;
}

// withDot is an avatar with the online dot when online (a 1:1 peer's).
export function withDot(node, online) {
  return el("span", { className: online ? "avatar-wrap online" : "avatar-wrap" }, node,
    online ? el("span", { className: "dot", title: "Online" }, el("span", { className: "visually-hidden", textContent: "online" })) : null);
}

// debounce calls fn once calls stop for ms.
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
