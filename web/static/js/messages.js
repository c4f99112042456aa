// How each message type looks: body(m) is the bubble's content, preview(m)
// the one line the conversation list shows. Types the page does not know
// still show as something ("unsupported message"), never an empty bubble.
import { el, linkify, safeURL, size, duration } from "./format.js";

export function preview(m) {
  if (!m) return "";
  if (m.recalled) return "Message recalled";
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
