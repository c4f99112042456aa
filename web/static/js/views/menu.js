// A conversation's settings menu (UpdateConversation), opened from its
// row's ⋯ or the chat header's: pin, mute (8 hours, a week, forever) or
// unmute, archive or unarchive. The settings are the caller's own, on
// every device (the others see them when they fetch the list again).
import { call, M } from "../api.js";
import { $, el, fullTime } from "../format.js";
import { state, putConversation, muted } from "../store.js";

const HOUR = 3600_000;
const FOREVER = "9999-12-31T23:59:59Z";

let opener = null;
let notify = () => {};

const menu = () => $("#conversation-menu");

async function update(c, settings) {
  close();
  try {
    const resp = await call(M("UpdateConversation"), { conversation_id: c.conversation_id, ...settings });
    putConversation(resp.conversation);
  } catch (err) {
    notify(err.message);
  }
}

function item(text, onClick) {
  const b = el("button", { type: "button", role: "menuitem", textContent: text });
  b.addEventListener("click", onClick);
  return b;
}

// show opens the menu of conversation c under button from.
export function show(c, from) {
  if (opener === from && !menu().hidden) return close();
  c = state.conversations.get(c.conversation_id) || c;
  const until = (ms) => new Date(Date.now() + ms).toISOString();
  const items = [item(c.pinned ? "Unpin" : "Pin to the top", () => update(c, { pinned: !c.pinned }))];
  if (muted(c)) {
    const forever = c.muted_until.startsWith("9999");
    items.push(item(forever ? "Unmute" : `Unmute (muted until ${fullTime(new Date(c.muted_until))})`, () => update(c, { muted_until: new Date(0).toISOString() })));
  } else {
    items.push(item("Mute for 8 hours", () => update(c, { muted_until: until(8 * HOUR) })),
      item("Mute for a week", () => update(c, { muted_until: until(7 * 24 * HOUR) })),
      item("Mute forever", () => update(c, { muted_until: FOREVER })));
  }
  items.push(item(c.archived ? "Unarchive" : "Archive", () => update(c, { archived: !c.archived })));
  const node = menu();
  node.replaceChildren(...items);
  node.ariaLabel = `Options for ${c.peer_group?.name || c.peer_user?.nickname || "the conversation"}`;
  opener = from;
  from.setAttribute("aria-expanded", "true");
  node.hidden = false;
  // Under the button, kept on screen.
  const box = from.getBoundingClientRect();
  node.style.top = `${Math.min(box.bottom + 4, innerHeight - node.offsetHeight - 8)}px`;
  node.style.left = `${Math.max(8, Math.min(box.right - node.offsetWidth, innerWidth - node.offsetWidth - 8))}px`;
  node.querySelector("button").focus();
}

export function close(refocus = false) {
  if (menu().hidden) return;
  menu().hidden = true;
  opener?.setAttribute("aria-expanded", "false");
  if (refocus && opener?.isConnected) opener.focus();
  opener = null;
}

export function setUp(options) {
  notify = options.notify;
  const node = menu();
  node.addEventListener("keydown", (event) => {
    const buttons = [...node.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.stopPropagation();
      close(true);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      buttons[(at + (event.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
    } else if (event.key === "Tab") {
      close(true);
    }
  });
  document.addEventListener("click", (event) => {
    if (!node.hidden && !node.contains(event.target) && event.target !== opener) close();
  }, true);
}
