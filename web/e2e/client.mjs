// The page as a chat client, checked against data test/e2e sent over gRPC
// (seed.json): first load and weight, scroll-back through three pages,
// every message type, type-ahead, profile and group cards, the title count
// and notifications, two tabs, offline → online resync, keyboard-only
// sending, and the phone layout. Live messages during the run are sent by
// Pat over the REST API. Usage: node client.mjs <base URL> <screenshot dir> <seed.json>.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, shots, seedFile] = process.argv.slice(2);
if (!base || !shots || !seedFile) throw new Error("usage: node client.mjs <base URL> <screenshot dir> <seed.json>");
const seed = JSON.parse(readFileSync(seedFile, "utf8"));

const check = (ok, what) => {
  if (!ok) throw new Error(`failed: ${what}`);
};

// say sends a text from Pat to the viewer over REST.
async function say(content) {
  const resp = await fetch(`${base}/v1/api/message/text/user`, {
    method: "POST",
    headers: { Authorization: `Bearer ${seed.pat.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ to_user_id: seed.viewer.id, text: { content } }),
  });
  check(resp.ok, `REST send: ${resp.status} ${await resp.text()}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const pageErrors = [];
const watch = (page) => page.on("pageerror", (err) => {
  pageErrors.push(err);
  console.log(`error in the page: ${err.message}`);
});
const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png` });

try {
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await desktop.grantPermissions(["notifications"], { origin: base });
  // Instrumentation: notifications shown are recorded, and the test can
  // make the tab look hidden (headless tabs are always visible).
  await desktop.addInitScript(() => {
    window.__notified = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notified.push(title);
      }
    };
    Object.defineProperty(Document.prototype, "hidden", { get: () => window.__hidden === true });
  });
  const page = await desktop.newPage();
  watch(page);

  // The socket can be cut and refused, as a network drop would.
  let offline = false;
  const sockets = new Set();
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (offline) return ws.close();
    const server = ws.connectToServer();
    const pair = { ws, server };
    sockets.add(pair);
    ws.onClose(() => sockets.delete(pair));
  });

  // --- first load: time to interactive and weight ----------------------
  await page.goto(base);
  await page.waitForSelector("#auth:not([hidden])");
  const loaded = await page.evaluate(() => {
    const mark = performance.getEntriesByName("parley-interactive")[0];
    const own = performance.getEntriesByType("resource").filter((r) => /\.(js|css)$/.test(new URL(r.name).pathname));
    const nav = performance.getEntriesByType("navigation")[0];
    const slowest = own.reduce((a, r) => (r.responseEnd > a.responseEnd ? r : a), { responseEnd: 0 });
    return {
      interactive: mark?.startTime, bytes: own.reduce((n, r) => n + r.decodedBodySize, 0), files: own.length,
      detail: `document ${nav.responseEnd.toFixed(0)} ms, DOM interactive ${nav.domInteractive.toFixed(0)} ms, last module ${slowest.responseEnd.toFixed(0)} ms (${slowest.name ? new URL(slowest.name).pathname : ""})`,
    };
  });
  // Printed, not asserted: a shared machine's load decides it (the budget
  // is 300 ms on a quiet one). The weight is the page's own and is checked.
  console.log(`first load: interactive after ${loaded.interactive.toFixed(0)} ms, budget 300 ms (${loaded.detail}); own JS+CSS ${loaded.bytes} bytes in ${loaded.files} files, budget 150 KB`);
  check(loaded.bytes <= 150 * 1024, `JS+CSS within 150 KB (${loaded.bytes} bytes)`);
  const favicon = await fetch(`${base}/favicon.ico`);
  check(favicon.ok && favicon.headers.get("content-type").startsWith("image/"), "/favicon.ico is an image");

  // --- sign in, remembered; the title counts what is unread -------------
  await page.fill("#auth-form [name=nickname]", seed.viewer.nickname);
  await page.fill("#auth-form [name=password]", seed.viewer.password);
  await page.check("#auth-form [name=remember]");
  await page.click("#auth-form button[value=login]");
  await page.waitForSelector("#chats:not([hidden])");
  const unread = seed.history + 7;
  await page.waitForFunction((n) => document.title === `(${n}) Parley`, unread);
  check((await page.getAttribute("#favicon", "href")) === "favicon-unread.svg", "the favicon shows unread");
  await shot(page, "desktop-conversations");

  // --- scroll back through the whole history -----------------------------
  await page.locator("#conversations li", { hasText: seed.pat.nickname }).click();
  await page.waitForSelector(`#message-list .bubble >> text=history ${String(seed.history).padStart(3, "0")}`);
  let pages = 1;
  for (; pages < 10; pages++) {
    if ((await page.textContent("#history-state")).includes("Beginning")) break;
    const before = await page.locator("#message-list .bubble").count();
    const topSeq = await page.getAttribute("#message-list .bubble >> nth=0", "data-seq");
    await page.locator("#messages").evaluate((node) => { node.scrollTop = 0; });
    await page.waitForFunction((n) => document.querySelectorAll("#message-list .bubble").length > n, before);
    // The message that was on top is still in view: the position is kept.
    const inView = await page.evaluate((seq) => {
      const box = document.querySelector("#messages").getBoundingClientRect();
      const it = document.querySelector(`#message-list [data-seq="${seq}"]`).getBoundingClientRect();
      return it.top >= box.top - 1 && it.top <= box.bottom;
    }, topSeq);
    check(inView, `message ${topSeq} stays in view after loading the page before it`);
  }
  const texts = await page.$$eval("#message-list .bubble p.text", (nodes) => nodes.map((n) => n.textContent));
  const want = Array.from({ length: seed.history }, (_, i) => `history ${String(i + 1).padStart(3, "0")}`);
  check(JSON.stringify(texts) === JSON.stringify(want), `the whole history once, in order (got ${texts.length}: ${texts.slice(0, 3)}…)`);
  check(pages >= 3, `three pages or more (${pages})`);
  check(await page.locator("#message-list .day", { hasText: "Today" }).count() === 1, "one day separator: Today");
  check(/\d/.test(await page.textContent("#message-list .bubble time")), "messages show their time");
  await shot(page, "desktop-history-start");
  // A message arriving while scrolled up offers a jump to the newest.
  await say("while you were reading");
  await page.waitForSelector("#jump:not([hidden])");
  await page.click("#jump");
  await page.waitForFunction(() => {
    const s = document.querySelector("#messages");
    return s.scrollHeight - s.scrollTop - s.clientHeight < 40;
  });
  await page.waitForSelector("#message-list .bubble >> text=while you were reading");
  console.log(`ok: scrolled back through ${pages} pages, ${texts.length} messages, no gap or repeat`);

  // --- every message type ------------------------------------------------
  // Opened twice at once (a double click before the first page is in): the
  // page must not hang, and shows the conversation once.
  await page.locator("#conversations li", { hasText: seed.tia.nickname }).dblclick();
  await page.waitForSelector("#message-list .face");
  check(await page.locator("#message-list .face").count() === 1, "a conversation opened twice shows its messages once");
  const link = page.locator('#message-list .bubble a[href="https://example.com/docs"]');
  check(await link.getAttribute("rel") === "noopener noreferrer", "a link in a text opens without the page's handle");
  await page.waitForFunction(() => document.querySelector("#message-list img.photo")?.naturalWidth > 0);
  await page.locator("#message-list .file", { hasText: "report.pdf" }).waitFor();
  check((await page.textContent("#message-list .file")).includes("2.0 KB"), "a file shows its size");
  await page.locator("#message-list .location", { hasText: "Alexanderplatz" }).waitFor();
  check((await page.getAttribute("#message-list .location a", "href")).startsWith("https://www.openstreetmap.org/"), "a location links to a map");
  check(await page.locator("#message-list audio").count() === 1, "a voice message is an audio player");
  check((await page.getAttribute("#message-list video", "poster")).includes("/media/"), "a video shows its poster");
  check((await page.textContent("#message-list .face")) === "👍", "a sticker shows its symbol");
  check(await page.locator("#message-list .bubble", { hasText: "Unsupported" }).count() === 0, "no message type unknown");
  await shot(page, "desktop-message-types");
  await page.click("#message-list .photo-button");
  await page.waitForSelector("#viewer[open]");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector("#viewer").open);
  console.log("ok: text, image, file, location, voice, video and sticker messages render");

  // --- type-ahead, a profile, a group ------------------------------------
  await page.fill("#search-input", seed.prefix);
  await page.locator("#search-results li", { hasText: seed.finds[2].nickname }).waitFor();
  check(await page.locator("#search-results li", { hasText: seed.group }).count() === 1, "groups are found too");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#profile[open]");
  check((await page.textContent("#profile-name")) === seed.finds[1].nickname, "arrow down and Enter open the second result");
  await page.locator("#profile button", { hasText: "Follow" }).click();
  await page.locator("#profile button", { hasText: "Unfollow" }).waitFor();
  await shot(page, "desktop-profile");
  await page.keyboard.press("Escape");
  await page.fill("#search-input", seed.prefix);
  await page.locator("#search-results li", { hasText: seed.group }).click();
  await page.waitForSelector("#group-info[open]");
  await page.locator("#group-info .members li", { hasText: "Join to see" }).waitFor();
  await page.locator("#group-info button", { hasText: "Join" }).click();
  await page.locator("#group-info .members li", { hasText: seed.viewer.nickname }).waitFor();
  await page.locator("#group-info .members li", { hasText: seed.pat.nickname }).locator(".meta", { hasText: "owner" }).waitFor();
  await page.locator("#group-info button", { hasText: "Open chat" }).waitFor();
  await shot(page, "desktop-group");
  await page.keyboard.press("Escape");
  console.log("ok: type-ahead finds people and groups; profile and group cards work");

  // --- notifications and the title count ---------------------------------
  await page.click("#me-button");
  await page.check("#notify-toggle");
  check(await page.isChecked("#notify-toggle"), "notifications turn on once permitted");
  await page.click("#me-button");
  await page.waitForFunction(() => document.title === "Parley"); // all read
  await page.evaluate(() => { window.__hidden = true; });
  await say("are you around?");
  await page.waitForFunction(() => document.title === "(1) Parley");
  await page.waitForFunction((who) => window.__notified.includes(who), seed.pat.nickname);
  await page.evaluate(() => { window.__hidden = false; });
  console.log("ok: a background message counts in the title and notifies");

  // --- a second tab is signed in ------------------------------------------
  const second = await desktop.newPage();
  watch(second);
  await second.goto(base);
  await second.waitForSelector("#chats:not([hidden])");
  check((await second.textContent("#me-button")).includes(seed.viewer.nickname), "the second tab is signed in");
  await second.close();
  console.log("ok: a second tab is signed in");

  // --- offline, then back: what was missed arrives once --------------------
  await page.locator("#conversations li", { hasText: seed.pat.nickname }).click();
  await page.waitForSelector("#message-list .bubble >> text=are you around?");
  offline = true;
  for (const { ws, server } of sockets) {
    server.close();
    ws.close();
  }
  await page.waitForSelector("#connection.offline");
  await shot(page, "desktop-offline");
  for (const n of [1, 2, 3]) await say(`while offline ${n}`);
  offline = false;
  await page.waitForSelector("#message-list .bubble >> text=while offline 3", { timeout: 20_000 });
  await page.waitForFunction(() => document.querySelector("#connection").textContent === "");
  for (const n of [1, 2, 3]) {
    check(await page.locator("#message-list .bubble", { hasText: `while offline ${n}` }).count() === 1, `"while offline ${n}" shown once`);
  }
  console.log("ok: after a network drop the page reconnects and resyncs without duplicates");

  // --- keyboard only -------------------------------------------------------
  await page.locator("#search-input").focus();
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate((name) => document.activeElement?.closest?.("#conversations li")?.textContent.includes(name) === true, seed.tia.nickname);
  }
  check(found, "the conversation list is reachable with Tab");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.id === "composer-text");
  await page.keyboard.type("typed with keys");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("second line");
  await page.keyboard.press("Enter");
  await page.locator("#message-list .mine p.text", { hasText: "second line" }).waitFor();
  check((await page.textContent("#message-list .mine p.text >> nth=-1")) === "typed with keys\nsecond line", "Shift+Enter is a new line, Enter sends");
  await shot(page, "desktop-chat");
  console.log("ok: keyboard-only send");

  // --- the phone layout ------------------------------------------------------
  // In the dark theme, as a phone set to dark would show it.
  const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: "dark" })).newPage();
  watch(phone);
  await phone.goto(base);
  await phone.fill("#auth-form [name=nickname]", seed.pat.nickname);
  await phone.fill("#auth-form [name=password]", seed.pat.password);
  await phone.click("#auth-form button[value=login]");
  await phone.waitForSelector("#sidebar:visible");
  check(!(await phone.isVisible("#chat")), "on a phone the list shows alone");
  await shot(phone, "phone-list");
  // By its name: the group's row names the viewer too ("… joined").
  await phone.locator("#conversations li", { has: phone.locator(".name", { hasText: seed.viewer.nickname }) }).click();
  await phone.waitForSelector("#chat:visible");
  check(!(await phone.isVisible("#sidebar")), "the chat replaces the list");
  await shot(phone, "phone-chat");
  // Touch: a tap on a bubble shows its actions; React offers the quick
  // emoji; a tap on one's own chip takes it back.
  const last = phone.locator("#message-list .bubble:has(p.text)").last();
  check((await last.locator(".actions").boundingBox()).width < 2, "on a touch screen a bubble's actions wait for a tap");
  await last.locator("p.text").tap();
  await last.locator(".reply-button", { hasText: "React" }).tap();
  await last.locator('.picker button[aria-label="React with 🙏"]').tap();
  await last.locator('.reaction[data-emoji="🙏"][aria-pressed="true"] .count', { hasText: "1" }).waitFor();
  await shot(phone, "phone-reactions");
  await last.locator('.reaction[data-emoji="🙏"]').tap();
  await last.locator(".reaction").waitFor({ state: "detached" });
  console.log("ok: touch: a tap shows the actions; a reaction added and taken back");
  await phone.click("#back");
  await phone.waitForSelector("#sidebar:visible");
  check(!(await phone.isVisible("#chat")), "back returns to the list");
  console.log("ok: phone layout: list → chat → back");

  // --- logging out signs every tab out ---------------------------------------
  const other = await desktop.newPage();
  await other.goto(base);
  await other.waitForSelector("#chats:not([hidden])");
  await other.click("#me-button");
  await other.click("#logout");
  await page.waitForSelector("#auth:not([hidden])");
  console.log("ok: logging out in one tab signs the others out");

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  console.log(`ok: the client checks passed; screenshots in ${shots}`);
} finally {
  await browser.close();
}
