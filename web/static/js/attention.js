// Getting the user's attention: the unread count in the tab title and the
// favicon, a browser notification for a message that arrives while the tab
// is in the background (asked for only when the user turns it on in the
// menu), and a short tone (off by default). A muted conversation does
// none of these: its unread count is in the list only.
import { $ } from "./format.js";
import { state, unreadTotal, muted, on } from "./store.js";
import { looking } from "./views/chat.js";

const NOTIFY = "parley.notify";
const SOUND = "parley.sound";

export function update() {
  const n = unreadTotal();
  document.title = n > 0 ? `(${n}) Parley` : "Parley";
  $("#favicon").href = n > 0 ? "favicon-unread.svg" : "favicon.svg";
}

export const notificationsOn = () => localStorage.getItem(NOTIFY) === "on" && "Notification" in window && Notification.permission === "granted";

let audio = null;

async function tone() {
  audio ||= new AudioContext();
  await audio.resume();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.25);
}

// alert tells the user of message m from sender, unless they are looking at
// its conversation or it is muted.
export function alert(m, senderName, text) {
  if (looking(m.conversation_id) || muted(state.conversations.get(m.conversation_id))) return;
  if (localStorage.getItem(SOUND) === "on") tone().catch(() => {});
  if (document.hidden && notificationsOn()) {
    const n = new Notification(senderName, { body: text, tag: m.conversation_id, icon: "favicon.svg" });
    n.onclick = () => { window.focus(); n.close(); };
  }
}

export function setUp({ notify }) {
  on("conversations", update);
  const notifyToggle = $("#notify-toggle");
  notifyToggle.checked = notificationsOn();
  notifyToggle.addEventListener("change", async () => {
    if (!notifyToggle.checked) return localStorage.setItem(NOTIFY, "off");
    if (!("Notification" in window)) {
      notifyToggle.checked = false;
      return notify("This browser has no notifications");
    }
    const permission = await Notification.requestPermission();
    notifyToggle.checked = permission === "granted";
    localStorage.setItem(NOTIFY, notifyToggle.checked ? "on" : "off");
    if (!notifyToggle.checked) notify("Notifications are blocked for this site in the browser's settings");
  });
  const soundToggle = $("#sound-toggle");
  soundToggle.checked = localStorage.getItem(SOUND) === "on";
  soundToggle.addEventListener("change", () => localStorage.setItem(SOUND, soundToggle.checked ? "on" : "off"));
}
