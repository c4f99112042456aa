// Three people in three browser contexts: what travels beside messages.
// Delivery and read ticks in a 1:1 chat (live, and after a reload), a
// group's "read by N" and its list, pinning, muting (no title count) and
// archiving in the list, typing (shown, gone when the message comes or
// the draft is cleared), the online dot, hiding one's presence, and
// "last seen" once a page has closed (after the server's 10 s grace).
// Usage: node signals.mjs <parley base URL> <screenshot directory>.
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) throw new Error("usage: node signals.mjs <base URL> <screenshot dir>");

const check = (ok, what) => {
  if (!ok) throw new Error(`failed: ${what}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const open = {}; // the pages, for a screenshot of where a failure left them
const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png` });
try {
  const suffix = Date.now().toString(36);
  const annName = `ann${suffix}`;
  const benName = `ben${suffix}`;
  const cyName = `cy${suffix}`;
  const newPage = async (viewport) => (await browser.newContext({ viewport })).newPage();
  const ann = await newPage({ width: 1280, height: 800 });
  const ben = await newPage({ width: 1280, height: 800 });
  const cy = await newPage({ width: 1024, height: 720 });
  Object.assign(open, { ann, ben, cy });
  const pageErrors = [];
  for (const page of [ann, ben, cy]) page.on("pageerror", (err) => pageErrors.push(err));

  const signUp = async (page, nickname) => {
    await page.goto(base);
    await page.fill("#auth-form [name=nickname]", nickname);
    await page.fill("#auth-form [name=password]", "browser-password-1");
    await page.click("#auth-form button[value=signup]");
    await page.waitForSelector("#chats:not([hidden])");
  };
  const startChat = async (page, name) => {
    await page.fill("#search-input", name.slice(0, -2));
    await page.locator("#search-results li", { hasText: name }).click();
    await page.locator("#profile button", { hasText: "Message" }).click();
    await page.waitForSelector("#composer:not([hidden])");
  };
  const send = async (page, text) => {
    await page.fill("#composer [name=text]", text);
    await page.press("#composer [name=text]", "Enter");
    await page.locator("#message-list .mine", { hasText: text }).waitFor();
  };
  const row = (page, name) => page.locator("#conversations li", { hasText: name });
  const openChat = async (page, name) => {
    await row(page, name).locator(".conversation").click();
    await page.locator("#chat-title", { hasText: name }).waitFor();
  };
  const tick = (page, text, state) => page.locator("#message-list .mine", { hasText: text }).locator(`.status[data-state="${state}"]`);
  const status = (page, text) => page.locator("#chat-status", { hasText: text });
  const settings = async (page, name, choice, screenshot) => {
    await row(page, name).hover();
    await row(page, name).locator(".row-menu").click();
    const item = page.locator("#conversation-menu button", { hasText: choice });
    await item.waitFor();
    if (screenshot) await shot(page, screenshot);
    await item.click();
  };
  await signUp(ann, annName);
  await signUp(ben, benName);
  await signUp(cy, cyName);

  // --- 1:1: delivered, then read ------------------------------------------
  await startChat(cy, annName);
  await send(cy, "hi ann, cy here");
  await startChat(ann, benName);
  // Ben's page is open: Ann's page shows him online.
  await status(ann, /^online$/).waitFor({ timeout: 10_000 });
  await ann.locator("#chat-avatar .avatar-wrap.online").waitFor();
  await send(ann, "hello ben");
  // His page has it (not open): ✓. He opens it: ✓✓.
  await row(ben, annName).waitFor({ timeout: 10_000 });
  await tick(ann, "hello ben", "delivered").waitFor({ timeout: 10_000 });
  check((await tick(ann, "hello ben", "delivered").textContent()) === "✓", "delivered is one tick");
  await openChat(ben, annName);
  await tick(ann, "hello ben", "read").waitFor({ timeout: 10_000 });
  check((await tick(ann, "hello ben", "read").textContent()) === "✓✓", "read is two ticks");
  await row(ann, benName).locator(".avatar-wrap.online").waitFor();
  await shot(ann, "ann-receipts");
  console.log("ok: 1:1 receipts: ✓ once delivered, ✓✓ once read; the peer online");

  // --- a group: read by N, and who ------------------------------------------
  await ann.click("#sidebar .new-group summary");
  await ann.fill("#new-group [name=name]", `club ${suffix}`);
  await ann.click("#new-group button");
  await ann.locator("#chat-title", { hasText: `club ${suffix}` }).waitFor();
  await ann.click("#chat-info");
  for (const name of [benName, cyName]) {
    await ann.fill("#group-info [name=nickname]", name);
    await ann.click("#group-info form.row button");
    await ann.locator("#group-info .members li", { hasText: name }).waitFor();
  }
  await ann.keyboard.press("Escape");
  await send(ann, "hello club");
  await ann.locator("#message-list .mine", { hasText: "hello club" }).locator(".readby", { hasText: "Delivered to 2" }).waitFor({ timeout: 10_000 });
  await openChat(ben, `club ${suffix}`);
  await ann.locator("#message-list .mine", { hasText: "hello club" }).locator(".readby", { hasText: "Read by 1" }).waitFor({ timeout: 10_000 });
  await openChat(cy, `club ${suffix}`);
  const readBy = ann.locator("#message-list .mine", { hasText: "hello club" }).locator(".readby", { hasText: "Read by 2" });
  await readBy.waitFor({ timeout: 10_000 });
  await readBy.click();
  await ann.waitForSelector("#receipts[open]");
  for (const name of [benName, cyName]) await ann.locator('#receipts ul[aria-label="Read by"] li', { hasText: name }).waitFor();
  check(await ann.locator('#receipts ul[aria-label="Delivered to"] li').count() === 0, "no one has it delivered but unread");
  await shot(ann, "ann-group-read-by");
  await ann.keyboard.press("Escape");
  console.log("ok: group receipts: delivered to 2, read by 1, read by 2, and the list of who");

  // --- pin, mute, archive ---------------------------------------------------
  await settings(ann, cyName, "Pin to the top");
  await ann.locator("#conversations li:first-child", { hasText: cyName }).locator(".mark", { hasText: "📌" }).waitFor();
  await settings(ann, cyName, "Mute for 8 hours", "ann-conversation-menu");
  await row(ann, cyName).locator(".mark", { hasText: "🔕" }).waitFor();
  check(await ann.title() === "Parley", `nothing unread yet (${await ann.title()})`);
  await openChat(cy, annName);
  await send(cy, "psst");
  // Counted in the list (Cy's first message and this), not in the tab's title.
  await row(ann, cyName).locator(".badge.muted", { hasText: "2" }).waitFor({ timeout: 10_000 });
  await ann.waitForTimeout(300);
  check(await ann.title() === "Parley", `a muted conversation is not in the title (${await ann.title()})`);
  // Archived: out of the list, under "Archived"; a message brings it back.
  await settings(ann, `club ${suffix}`, "Archive");
  await ann.locator("#conversations .archived-toggle", { hasText: "Archived (1)" }).waitFor();
  check(await row(ann, `club ${suffix}`).count() === 0, "an archived conversation leaves the list");
  await openChat(cy, `club ${suffix}`);
  await send(cy, "anyone here?");
  await row(ann, `club ${suffix}`).waitFor({ timeout: 10_000 });
  check(await ann.locator("#conversations .archived-toggle").count() === 0, "a message brings an archived conversation back");
  await settings(ann, `club ${suffix}`, "Archive");
  await ann.click("#conversations .archived-toggle");
  await ann.locator("#conversations .archived-head ~ li", { hasText: `club ${suffix}` }).waitFor();
  await ann.mouse.move(0, 0);
  await shot(ann, "ann-list-settings");
  // The settings are the server's: a reload shows them, and the ticks
  // come from the list (the peer's marks).
  await ann.reload();
  await ann.locator("#conversations li:first-child", { hasText: cyName }).locator(".mark", { hasText: "🔕" }).waitFor();
  await ann.locator("#conversations .archived-toggle", { hasText: "Archived (1)" }).waitFor();
  check(await ann.title() === "Parley", `after a reload the muted count is not in the title (${await ann.title()})`);
  await openChat(ann, benName);
  await tick(ann, "hello ben", "read").waitFor({ timeout: 10_000 });
  console.log("ok: pinned first, muted (counted in the list only), archived and back; kept after a reload, ✓✓ from the list");

  // --- typing -----------------------------------------------------------------
  await openChat(ben, annName);
  await ben.locator("#composer-text").pressSequentially("typing a rep", { delay: 40 });
  await status(ann, `${benName} is typing…`).waitFor({ timeout: 10_000 });
  await row(ann, benName).locator(".last.typing", { hasText: "is typing…" }).waitFor();
  await ann.mouse.move(0, 0);
  await shot(ann, "ann-typing");
  await ben.locator("#composer-text").pressSequentially("ly", { delay: 40 });
  await ben.press("#composer-text", "Enter");
  await ann.locator("#message-list .bubble", { hasText: "typing a reply" }).waitFor({ timeout: 10_000 });
  await status(ann, /^online$/).waitFor({ timeout: 2000 });
  check(await row(ann, benName).locator(".last.typing").count() === 0, "the list stops saying typing once the message is in");
  // A draft cleared says so at once (before a notice's 6 s run out).
  await ben.waitForTimeout(1100); // the server takes one notice a second
  await ben.locator("#composer-text").pressSequentially("wait", { delay: 40 });
  await status(ann, "is typing…").waitFor({ timeout: 10_000 });
  await ben.fill("#composer-text", "");
  await status(ann, /^online$/).waitFor({ timeout: 3000 });
  console.log("ok: typing shown in the header and the list; gone when the message came, and when the draft was cleared");

  // --- presence: hidden, then offline -----------------------------------------
  await ben.click("#me-button");
  await ben.check("#hide-presence");
  await ann.locator("#chat-avatar .avatar-wrap.online").waitFor({ state: "detached", timeout: 10_000 });
  check(!(await ann.textContent("#chat-status")).includes("last seen"), "a hidden user has no last seen");
  await ben.uncheck("#hide-presence");
  await ann.locator("#chat-avatar .avatar-wrap.online").waitFor({ timeout: 10_000 });
  await ben.reload();
  await ben.waitForSelector("#chats:not([hidden])");
  await ben.click("#me-button");
  check(!(await ben.isChecked("#hide-presence")), "the privacy setting is the server's");
  console.log("ok: hiding one's online status hides it from others, and showing it again shows it");
  await ben.context().close();
  delete open.ben;
  // The server keeps a user online for 10 s after its last page closed.
  await status(ann, /^last seen /).waitFor({ timeout: 30_000 });
  check(await ann.locator("#chat-avatar .avatar-wrap.online").count() === 0, "no online dot once offline");
  check(await row(ann, benName).locator(".avatar-wrap.online").count() === 0, "no online dot in the list once offline");
  await shot(ann, "ann-last-seen");
  console.log(`ok: offline after the page closed: "${await ann.textContent("#chat-status")}"`);

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  console.log(`ok: typing, receipts, presence and conversation settings; screenshots in ${shots}`);
} catch (err) {
  for (const [name, page] of Object.entries(open)) await page.screenshot({ path: `${shots}/signals-${name}-failed.png` }).catch(() => {});
  throw err;
} finally {
  await browser.close();
}
