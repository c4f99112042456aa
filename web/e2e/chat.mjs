// Two people sign up in two browser contexts (a laptop and a phone-sized
// window); one starts a chat and sends a message, the other sees it appear
// live. Usage: node chat.mjs <parley base URL> <screenshot directory>.
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) throw new Error("usage: node chat.mjs <base URL> <screenshot dir>");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // The machines running this have no network beyond localhost and run as
  // root: no sandbox, nothing fetched in the background.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const open = {}; // the pages, for a screenshot of where a failure left them
try {
  const suffix = Date.now().toString(36);
  const aliceName = `alice${suffix}`;
  const bobName = `bob${suffix}`;
  const alice = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const bob = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  Object.assign(open, { alice, bob });
  const pageErrors = [];
  for (const page of [alice, bob]) page.on("pageerror", (err) => pageErrors.push(err));

  const signUp = async (page, nickname) => {
    await page.goto(base);
    await page.fill("#auth-form [name=nickname]", nickname);
    await page.fill("#auth-form [name=password]", "browser-password-1");
    await page.click("#auth-form button[value=signup]");
    await page.waitForSelector("#chats:not([hidden])");
  };
  await signUp(alice, aliceName);
  await signUp(bob, bobName);

  // Alice finds Bob by the start of his nickname, opens his card, and
  // starts a chat.
  await alice.fill("#search-input", bobName.slice(0, -2));
  await alice.locator("#search-results li", { hasText: bobName }).click();
  await alice.locator("#profile button", { hasText: "Message" }).click();
  await alice.waitForSelector("#composer:not([hidden])");
  await alice.fill("#composer [name=text]", "hello bob");
  await alice.click("#composer button");
  await alice.waitForSelector("#message-list .mine >> text=hello bob");

  // Bob's conversation list shows it live, unread; he opens it.
  const entry = bob.locator("#conversations li", { hasText: aliceName });
  await entry.waitFor({ timeout: 10_000 });
  await entry.locator(".badge", { hasText: "1" }).waitFor();
  await entry.click();
  await bob.waitForSelector("#message-list .bubble >> text=hello bob");

  // With the chat open, the next message appears live, and Bob answers.
  await alice.fill("#composer [name=text]", "are you there?");
  await alice.click("#composer button");
  await bob.waitForSelector("#message-list .bubble >> text=are you there?", { timeout: 10_000 });
  await bob.fill("#composer [name=text]", "hi alice!");
  await bob.click("#composer button");
  await alice.waitForSelector("#message-list .bubble:not(.mine) >> text=hi alice!", { timeout: 10_000 });

  // Bob answers Alice's question as a reply: both see it quoted. On his
  // phone-wide page a tap on a bubble shows its actions (another tap hides
  // them).
  const tap = async (bubble) => {
    if (!(await bubble.evaluate((node) => node.classList.contains("active")))) await bubble.locator("p.text").click();
  };
  const question = bob.locator("#message-list .bubble", { hasText: "are you there?" });
  await tap(question);
  await question.locator(".reply-button", { hasText: "Reply" }).click();
  await bob.locator("#reply-bar", { hasText: "are you there?" }).waitFor();
  await bob.fill("#composer [name=text]", "yes, still here");
  await bob.press("#composer [name=text]", "Enter");
  await alice.locator("#message-list .bubble", { hasText: "yes, still here" }).locator(".quote", { hasText: "are you there?" }).waitFor({ timeout: 10_000 });
  await bob.locator("#message-list .mine", { hasText: "yes, still here" }).locator(".quote", { hasText: aliceName }).waitFor();
  if (await bob.isVisible("#reply-bar")) throw new Error("the reply bar stays after the reply is sent");
  // Alice fixes her question: Bob sees the new text, marked edited, live.
  const mine = alice.locator("#message-list .mine", { hasText: "are you there?" });
  await mine.hover();
  await mine.locator(".reply-button", { hasText: "Edit" }).click();
  await alice.locator("#reply-bar", { hasText: "Editing" }).waitFor();
  await alice.fill("#composer [name=text]", "are you there, bob?");
  await alice.press("#composer [name=text]", "Enter");
  const fixed = bob.locator("#message-list .bubble", { hasText: "are you there, bob?" });
  await fixed.locator(".edited").waitFor({ timeout: 10_000 });
  if (await bob.locator("#message-list .bubble p.text", { hasText: /^are you there\?$/ }).count() !== 0) throw new Error("the old text is still shown");
  await alice.locator("#message-list .mine", { hasText: "are you there, bob?" }).locator(".edited").waitFor();
  // Alice takes back her first message: both sides keep a tombstone.
  alice.once("dialog", (d) => d.accept());
  const first = alice.locator("#message-list .mine", { hasText: "hello bob" });
  await first.hover();
  await first.locator(".reply-button", { hasText: "Recall" }).click();
  await bob.locator("#message-list .bubble .recalled").waitFor({ timeout: 10_000 });
  if (await bob.locator("#message-list .bubble", { hasText: "hello bob" }).count() !== 0) throw new Error("the recalled text is still shown");
  await alice.locator("#message-list .mine .recalled").waitFor();
  await alice.screenshot({ path: `${shots}/alice-reply.png` });
  // A tombstone takes no reaction.
  if (await alice.locator("#message-list .mine", { has: alice.locator(".recalled") }).locator(".reply-button", { hasText: "React" }).count() !== 0) throw new Error("a recalled message offers React");

  // Reactions: Alice reacts to Bob's message with 👍 from the React action;
  // Bob sees it live, not his own. He adds the same: 2 on both sides, both
  // theirs. Alice takes hers back: 1 on both sides, Bob's only.
  const chip = (page, text, emoji) =>
    page.locator("#message-list .bubble", { hasText: text }).locator(`.reaction[data-emoji="${emoji}"]`);
  // chipIs waits for the chip to show count, pressed (mine) or not.
  const chipIs = (page, text, emoji, count, mine) =>
    page.locator("#message-list .bubble", { hasText: text })
      .locator(`.reaction[data-emoji="${emoji}"][aria-pressed="${mine}"] .count`, { hasText: new RegExp(`^${count}$`) })
      .waitFor({ timeout: 10_000 });
  const bobsHi = alice.locator("#message-list .bubble:not(.mine)", { hasText: "hi alice!" });
  await bobsHi.hover();
  await bobsHi.locator(".reply-button", { hasText: "React" }).click();
  await alice.screenshot({ path: `${shots}/alice-react-picker.png` });
  await bobsHi.locator('.picker button[aria-label="React with 👍"]').click();
  await chipIs(alice, "hi alice!", "👍", 1, true);
  await chipIs(bob, "hi alice!", "👍", 1, false);
  await chip(bob, "hi alice!", "👍").click();
  await chipIs(bob, "hi alice!", "👍", 2, true);
  await chipIs(alice, "hi alice!", "👍", 2, true);
  // Bob answers Alice's question with ❤️ too: chips on both sides of the chat.
  const question2 = bob.locator("#message-list .bubble:not(.mine)", { hasText: "are you there, bob?" });
  await tap(question2);
  await question2.locator(".reply-button", { hasText: "React" }).click();
  await question2.locator('.picker button[aria-label="React with ❤️"]').click();
  await chipIs(alice, "are you there, bob?", "❤️", 1, false);
  await chipIs(bob, "are you there, bob?", "❤️", 1, true);
  const title = await chip(alice, "hi alice!", "👍").getAttribute("title");
  if (!title.startsWith("2 reactions with 👍") || !title.includes(bobName) || !title.includes("you")) throw new Error(`the chip's title says ${title}`);
  await alice.mouse.move(0, 0);
  await alice.screenshot({ path: `${shots}/alice-reactions.png` });
  await bob.mouse.move(0, 0);
  await bob.screenshot({ path: `${shots}/bob-reactions.png` });
  await chip(alice, "hi alice!", "👍").click();
  await chipIs(alice, "hi alice!", "👍", 1, false);
  await chipIs(bob, "hi alice!", "👍", 1, true);

  // With the keyboard: React opens the quick emoji, Esc closes them, Tab
  // and Enter pick one; the focus stays on the bubble as it is redrawn.
  const still = alice.locator("#message-list .bubble", { hasText: "yes, still here" });
  await still.locator(".reply-button", { hasText: "React" }).focus();
  await alice.keyboard.press("Enter");
  await still.locator(".picker:visible").waitFor();
  if (await alice.evaluate(() => document.activeElement.ariaLabel) !== "React with 👍") throw new Error("the picker does not take the focus");
  await alice.keyboard.press("Escape");
  await still.locator(".picker").waitFor({ state: "hidden" });
  await alice.keyboard.press("Enter");
  await alice.keyboard.press("Tab");
  await alice.keyboard.press("Enter");
  await chipIs(alice, "yes, still here", "❤️", 1, true);
  await chipIs(bob, "yes, still here", "❤️", 1, false);
  if (await alice.evaluate(() => document.activeElement?.closest(".bubble")?.textContent.includes("yes, still here") && document.activeElement.textContent) !== "React") throw new Error("the focus left the redrawn bubble");

  // Delete for me: Bob deletes a message of Alice's for himself. It leaves
  // his page, and stays on Alice's; her page is never told (its seq is
  // skipped for her) and still follows the chat live without syncing in a
  // loop.
  // Alice's page counts the syncs it asks for.
  await alice.evaluate(() => {
    const send = WebSocket.prototype.send;
    window.syncs = 0;
    WebSocket.prototype.send = function (data) {
      if (String(data).includes("SyncMessages")) window.syncs++;
      return send.call(this, data);
    };
  });
  const aliceSyncs = () => alice.evaluate(() => window.syncs);
  await alice.fill("#composer [name=text]", "just between us");
  await alice.click("#composer button");
  const secret = bob.locator("#message-list .bubble", { hasText: "just between us" });
  await secret.waitFor({ timeout: 10_000 });
  bob.once("dialog", (d) => d.accept());
  await tap(secret);
  await secret.locator(".reply-button", { hasText: "Delete for me" }).click();
  await secret.waitFor({ state: "detached", timeout: 10_000 });
  await alice.waitForTimeout(500);
  if (await alice.locator("#message-list .bubble", { hasText: "just between us" }).count() !== 1) throw new Error("Bob's delete-for-me took the message from Alice too");
  const syncsBefore = await aliceSyncs();
  await bob.fill("#composer [name=text]", "after the delete");
  await bob.click("#composer button");
  await alice.locator("#message-list .bubble", { hasText: "after the delete" }).waitFor({ timeout: 10_000 });
  await alice.waitForTimeout(1500);
  const syncs = (await aliceSyncs()) - syncsBefore;
  if (syncs > 1) throw new Error(`Alice's page synced ${syncs} times after a skipped seq`);
  // A change after the skipped seq still reaches Bob's page live.
  await chip(alice, "hi alice!", "👍").click();
  await chipIs(bob, "hi alice!", "👍", 2, true);
  // Deleted for good: a reload does not bring it back.
  await bob.reload();
  await bob.locator("#conversations li", { hasText: aliceName }).click();
  await bob.locator("#message-list .bubble", { hasText: "after the delete" }).waitFor({ timeout: 10_000 });
  if (await bob.locator("#message-list .bubble", { hasText: "just between us" }).count() !== 0) throw new Error("the deleted message is back after a reload");
  await chipIs(bob, "hi alice!", "👍", 2, true);

  // A photo goes through /upload and arrives as an image message.
  const pixel = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
  await alice.setInputFiles("#composer [name=image]", { name: "pixel.png", mimeType: "image/png", buffer: pixel });
  const photo = bob.locator("#message-list img.photo");
  await photo.waitFor({ timeout: 10_000 });
  if (!(await photo.getAttribute("src")).includes("/media/")) throw new Error("the photo is not served from /media/");
  // It loads (the page's Content-Security-Policy allows where it is served from).
  await bob.waitForFunction(() => document.querySelector("#message-list img.photo")?.naturalWidth > 0);

  // A file of any kind goes through /upload/file and arrives as a file
  // message, downloadable with its name and size.
  await alice.setInputFiles("#composer [name=file]", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("meeting at noon\n") });
  const file = bob.locator("#message-list .file", { hasText: "notes.txt" });
  await file.waitFor({ timeout: 10_000 });
  if (!(await file.textContent()).includes("16 B")) throw new Error("the file message does not show its size");
  const download = await fetch(new URL(await file.getAttribute("href"), base));
  if (!download.ok || (await download.text()) !== "meeting at noon\n") throw new Error("the file does not download as sent");
  if (!download.headers.get("content-disposition")?.startsWith("attachment")) throw new Error("a file is not served as an attachment");

  // Alice posts to the feed. Bob finds it under Recommended, likes it,
  // comments, reports it, follows Alice, and then has it under Following.
  const post = `first post from the browser ${suffix}`;
  await alice.click("#tabs button[data-tab=feed]");
  await alice.fill("#post [name=content]", post);
  await alice.click("#post button");
  await alice.waitForSelector("#status >> text=Posted");
  // The author sees it at once, under My posts.
  await alice.locator("#feeds .feed", { hasText: post }).waitFor();
  await bob.click("#tabs button[data-tab=feed]");
  await bob.click("#feed .tabs button[data-list=recommend]");
  const card = bob.locator(".feed", { hasText: post });
  await card.waitFor();
  await card.locator("button", { hasText: "Like · 0" }).click();
  await bob.locator(".feed", { hasText: post }).locator("button", { hasText: "Liked · 1" }).waitFor();
  await bob.locator(".feed", { hasText: post }).locator("button", { hasText: "Comments" }).click();
  await bob.fill(".feed .comments [name=content]", "nice one");
  await bob.click(".feed .comments form button");
  await bob.locator(".feed .comments", { hasText: "nice one" }).waitFor();
  if (await bob.locator(".feed .comments button", { hasText: "Report" }).count() !== 0) throw new Error("one's own comment offers Report");
  if (await alice.locator("#feeds .feed", { hasText: post }).locator("button", { hasText: "Report" }).count() !== 0) throw new Error("one's own post offers Report");
  await bob.locator(".feed", { hasText: post }).locator("button", { hasText: "Report" }).click();
  await bob.locator("#report[open] h2", { hasText: `Report ${aliceName}'s post` }).waitFor();
  await bob.click("#report button:text-is('Report')"); // no reason: it is optional
  await bob.locator("#report .note", { hasText: "Reported. Thank you." }).waitFor({ timeout: 10_000 });
  await bob.keyboard.press("Escape");
  await bob.locator(".feed", { hasText: post }).locator("button", { hasText: `Follow ${aliceName}` }).click();
  await bob.locator(".feed", { hasText: post }).locator("button:disabled", { hasText: "Following" }).waitFor();
  await bob.click("#feed .tabs button[data-list=follow]");
  await bob.locator(".feed", { hasText: post }).waitFor();

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  await alice.screenshot({ path: `${shots}/alice-laptop.png` });
  await bob.screenshot({ path: `${shots}/bob-phone.png` });
  console.log(`ok: ${aliceName} and ${bobName} chatted live; screenshots in ${shots}`);
} catch (err) {
  for (const [name, page] of Object.entries(open)) await page.screenshot({ path: `${shots}/${name}-failed.png` }).catch(() => {});
  throw err;
} finally {
  await browser.close();
}
