// Group governance in three browser contexts: Gia creates a group and
// makes it approval-only from its settings; Hal asks to join ("request
// sent"), Gia approves him from the panel, and the JOINED line shows in
// both timelines (and as the list's preview). Gia makes Hal an admin and a
// member again; she creates an invite link, which Ivy opens while signed
// in and lands in the group. Hal reports Ivy's message (with a reason);
// Gia sees the report in the card's Reports and deletes the message, which
// becomes a tombstone in all three timelines. Gia mutes Hal for an hour: his send shows the
// server's "muted" refusal. She bans Ivy with a reason and unbans her, mutes
// everyone, and at last makes Hal the owner (after a confirm), which gives
// him the settings. Hal, a plain member before that, sees roles only.
// Usage: node groups.mjs <parley base URL> <screenshot directory>.
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) throw new Error("usage: node groups.mjs <base URL> <screenshot dir>");

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
  const giaName = `gia${suffix}`;
  const halName = `hal${suffix}`;
  const ivyName = `ivy${suffix}`;
  const groupName = `council ${suffix}`;
  const newPage = async (viewport) => (await browser.newContext({ viewport })).newPage();
  const gia = await newPage({ width: 1280, height: 1080 }); // tall enough for the whole settings panel
  const hal = await newPage({ width: 1280, height: 800 });
  const ivy = await newPage({ width: 1024, height: 720 });
  Object.assign(open, { gia, hal, ivy });
  const pageErrors = [];
  for (const page of [gia, hal, ivy]) page.on("pageerror", (err) => pageErrors.push(err));

  const signUp = async (page, nickname) => {
    await page.goto(base);
    await page.fill("#auth-form [name=nickname]", nickname);
    await page.fill("#auth-form [name=password]", "browser-password-1");
    await page.click("#auth-form button[value=signup]");
    await page.waitForSelector("#chats:not([hidden])");
  };
  await Promise.all([signUp(gia, giaName), signUp(hal, halName), signUp(ivy, ivyName)]);

  const say = async (page, text) => {
    await page.fill("#composer [name=text]", text);
    await page.press("#composer [name=text]", "Enter");
    await page.locator("#message-list .mine", { hasText: text }).waitFor({ timeout: 10_000 });
  };
  const line = (page, text) => page.locator("#message-list .event", { hasText: text });
  const seeLine = (page, text) => line(page, text).waitFor({ timeout: 10_000 });
  const panel = (page) => page.locator("#group-info[open]");
  const note = (page, text) => page.locator("#group-info .note", { hasText: text }).waitFor({ timeout: 10_000 });
  const memberRow = (page, name) => page.locator('#group-info ul[aria-label="Members"] .member-row', { hasText: name });
  const manage = async (name) => {
    const row = memberRow(gia, name);
    if ((await row.locator("button", { hasText: "Manage" }).getAttribute("aria-expanded")) !== "true") {
      await row.locator("button", { hasText: "Manage" }).click();
    }
    return row;
  };

  // --- Gia creates the group and makes it approval-only -------------------
  await gia.click(".new-group summary");
  await gia.fill("#new-group-name", groupName);
  await gia.click("#new-group button");
  await gia.locator("#chat-title", { hasText: groupName }).waitFor();
  await gia.click("#chat-info");
  await panel(gia).waitFor();
  await memberRow(gia, giaName).locator(".role", { hasText: "owner" }).waitFor();
  await gia.locator('#group-info input[value="JOIN_POLICY_APPROVAL"]').click(); // saved at once, the card drawn again
  await note(gia, "Saved");
  await seeLine(gia, `${giaName} made the group approval-only`);
  console.log("ok: the owner's settings make the group approval-only; the event line shows");

  // --- Hal asks to join; Gia approves him from the panel ------------------
  await hal.fill("#search-input", groupName);
  await hal.locator("#search-results li", { hasText: groupName }).click();
  await panel(hal).waitFor();
  await hal.locator("#group-info .members li", { hasText: "Join to see" }).waitFor();
  await hal.locator("#group-info button", { hasText: "Ask to join" }).click();
  await note(hal, "Request sent; an admin will decide.");
  await hal.locator("#group-info button:disabled", { hasText: "Request sent" }).waitFor();
  await gia.click("#group-info [data-key=requests]"); // Check again
  const request = gia.locator('#group-info ul[aria-label="Join requests"] .member-row', { hasText: halName });
  await request.waitFor({ timeout: 10_000 });
  await request.locator("button", { hasText: "Approve" }).click();
  await note(gia, `${halName} joined`);
  await memberRow(gia, halName).waitFor();
  await seeLine(gia, `${giaName} added ${halName}`);
  // Hal's card follows the event: he is a member now.
  await hal.locator("#group-info button", { hasText: "Open chat" }).click({ timeout: 10_000 });
  await hal.locator("#chat-title", { hasText: groupName }).waitFor();
  await seeLine(hal, `${giaName} added ${halName}`);
  await hal.locator("#conversations li", { hasText: groupName }).locator(".last", { hasText: `${giaName} added ${halName}` }).waitFor();
  await say(hal, "thanks for letting me in");
  await gia.locator("#message-list .bubble", { hasText: "thanks for letting me in" }).waitFor({ timeout: 10_000 });
  console.log("ok: a join request approved from the panel; JOINED shows in both timelines and the list");

  // --- roles: admin, and back -----------------------------------------------
  let row = await manage(halName);
  await row.locator("button", { hasText: "Make admin" }).click();
  await memberRow(gia, halName).locator(".role", { hasText: "admin" }).waitFor({ timeout: 10_000 });
  await seeLine(gia, `${giaName} made ${halName} an admin`);
  // The card is drawn again; the focus stays on the control that was used.
  check(await gia.evaluate(() => document.activeElement?.textContent) === "Remove admin", "the focus stays on the member's role button");
  await seeLine(hal, `${giaName} made ${halName} an admin`);
  row = await manage(halName);
  await row.locator("button", { hasText: "Remove admin" }).click();
  await seeLine(gia, `${giaName} made ${halName} a member`);
  await seeLine(hal, `${giaName} made ${halName} a member`);
  await memberRow(gia, halName).locator(".role").waitFor({ state: "detached", timeout: 10_000 }); // a plain member has no role mark
  console.log("ok: the owner makes a member an admin and a member again; both see the lines");

  // --- an invite link, opened by a signed-in user ---------------------------
  await gia.fill("#group-info .invite-form [name=uses]", "5");
  await gia.selectOption("#group-info .invite-form [name=expires]", { label: "in 1 day" });
  await gia.click("#group-info .invite-form button");
  await note(gia, "Link created");
  await gia.locator("#group-info .invite", { hasText: "used 0 of 5" }).waitFor();
  check(await gia.inputValue("#group-info .invite-form [name=uses]") === "", "the invite form is emptied once the link is made");
  const link = await gia.locator("#group-info .invite .link-field").first().inputValue();
  check(/#join=[\w-]{22}$/.test(link), `an invite link of the page (${link})`);
  await ivy.goto(link); // the same page: only the fragment changes
  await ivy.locator("#chat-title", { hasText: groupName }).waitFor({ timeout: 10_000 });
  await seeLine(ivy, `${ivyName} joined`);
  check(!(await ivy.evaluate(() => location.hash)), "the link's code leaves the address bar");
  await seeLine(gia, `${ivyName} joined`);
  await seeLine(hal, `${ivyName} joined`);
  await say(ivy, "hello from the invite link");
  await hal.locator("#message-list .bubble", { hasText: "hello from the invite link" }).waitFor({ timeout: 10_000 });
  await gia.locator("#group-info .invite", { hasText: "used 1 of 5" }).waitFor({ timeout: 10_000 });
  console.log("ok: an invite link opened by a signed-in user joins the group and opens it");

  // --- a plain member's card: roles, nothing to manage ----------------------
  await hal.click("#chat-info");
  await panel(hal).waitFor();
  await memberRow(hal, giaName).locator(".role", { hasText: "owner" }).waitFor();
  await memberRow(hal, ivyName).waitFor();
  check(await hal.locator("#group-info button", { hasText: "Manage" }).count() === 0, "a member manages no one");
  check(await hal.locator("#group-info fieldset").count() === 0, "a member has no settings");
  check(await hal.locator('#group-info > .actions button[aria-label^="Report"]').count() === 1, "a member may report the group");
  check(await gia.locator('#group-info > .actions button[aria-label^="Report"]').count() === 0, "the owner does not report her own group");
  await hal.keyboard.press("Escape");
  await hal.waitForFunction(() => !document.querySelector("#group-info").open);
  console.log("ok: a plain member sees the members and roles, read-only");

  // --- a report: Hal reports Ivy's message; Gia deletes it from the card ----
  const reported = "hello from the invite link";
  check(await hal.locator("#message-list .bubble.mine button", { hasText: "Report" }).count() === 0, "one's own messages have no Report");
  const bubble = hal.locator("#message-list .bubble", { hasText: reported });
  await bubble.hover();
  await bubble.locator("button", { hasText: "Report" }).click();
  const form = hal.locator("#report[open]");
  await form.locator(".quote", { hasText: reported }).waitFor();
  check(await hal.evaluate(() => document.activeElement?.name) === "reason", "the reason takes the focus");
  await form.locator("[name=reason]").fill("advertising, off-topic");
  await form.locator("button", { hasText: "Report" }).click();
  await form.locator(".note", { hasText: "Reported. Thank you." }).waitFor({ timeout: 10_000 });
  await hal.mouse.move(0, 0);
  await shot(hal, "hal-reported");
  await form.locator("button", { hasText: "Close" }).click();
  await hal.waitForFunction(() => !document.querySelector("#report").open);
  await gia.click("#group-info [data-key=reports]"); // Check again
  const report = gia.locator('#group-info ul[aria-label="Reports"] .report', { hasText: `${halName} reported ${ivyName}'s message` });
  await report.locator(".quote", { hasText: reported }).waitFor({ timeout: 10_000 }); // the page has the message: its text
  await report.locator(".reason", { hasText: "advertising, off-topic" }).waitFor();
  await gia.locator("#group-info h3", { hasText: "Reports (1)" }).waitFor();
  await report.scrollIntoViewIfNeeded();
  await gia.mouse.move(0, 0);
  await shot(gia, "gia-group-reports");
  gia.once("dialog", (d) => d.accept()); // "Recall ivy's message for everyone?"
  await report.locator("button", { hasText: "Delete message" }).click();
  await note(gia, `${ivyName}'s message was deleted`);
  await gia.locator('#group-info ul[aria-label="Reports"] li', { hasText: "No open reports." }).waitFor({ timeout: 10_000 });
  for (const page of [gia, hal, ivy]) {
    await page.locator("#message-list .bubble .recalled", { hasText: "This message was recalled" }).waitFor({ timeout: 10_000 });
    check(await page.locator("#message-list .bubble", { hasText: reported }).count() === 0, "the reported message is gone from every timeline");
  }
  check(await hal.locator("#message-list .bubble:has(.recalled) button", { hasText: "Report" }).count() === 0, "a tombstone has no Report");
  console.log("ok: a member reports a message; the owner sees it in the card and deletes it; a tombstone in every timeline");

  // --- Gia mutes Hal: his send is refused with the server's message ---------
  row = await manage(halName);
  await row.locator("button", { hasText: "Mute for 1 hour" }).click();
  await memberRow(gia, halName).locator(".muted", { hasText: "muted until" }).waitFor({ timeout: 10_000 });
  await seeLine(gia, new RegExp(`${giaName} muted ${halName} until \\d`));
  await seeLine(hal, new RegExp(`${giaName} muted ${halName} until \\d`));
  await hal.fill("#composer [name=text]", "can I still talk?");
  await hal.press("#composer [name=text]", "Enter");
  await hal.locator("#status.show", { hasText: "you are muted in this group until" }).waitFor({ timeout: 10_000 });
  await hal.waitForTimeout(300); // the toast fades in
  await shot(hal, "hal-group-muted");
  check((await hal.inputValue("#composer [name=text]")) === "can I still talk?", "a refused message stays in the composer");
  check(await gia.locator("#message-list .bubble", { hasText: "can I still talk?" }).count() === 0, "a muted member's message is not delivered");
  console.log("ok: a muted member's send shows the server's refusal");

  // --- a ban with a reason, and an unban; mute everyone ---------------------
  row = await manage(ivyName);
  await row.locator("[name=reason]").fill("spam");
  await row.locator("button", { hasText: "Ban" }).click();
  await note(gia, `${ivyName} was banned`);
  const banned = gia.locator('#group-info ul[aria-label="Banned"] .member-row', { hasText: ivyName });
  await banned.locator(".meta", { hasText: "spam" }).waitFor();
  await seeLine(gia, `${giaName} banned ${ivyName} (spam)`);
  await seeLine(hal, `${giaName} banned ${ivyName} (spam)`);
  await seeLine(ivy, `${giaName} banned ${ivyName} (spam)`); // told of her removal
  await gia.locator("#group-info [name=mute_all]").click();
  await seeLine(gia, `${giaName} muted everyone`);
  // Hal joined after the group was made approval-only (its history hidden
  // from him): his page knows the settings now, not what changed.
  await seeLine(hal, `${giaName} set the group to approval-only, everyone muted, history hidden from new members`);
  await gia.locator("#group-info header .meta", { hasText: "everyone muted" }).waitFor();
  // The settings panel at its fullest (the viewport is tall enough for all
  // of it): a muted member, a used link, a ban.
  await gia.locator("#group-info").evaluate((d) => { d.scrollTop = 0; });
  await gia.mouse.move(0, 0);
  await shot(gia, "gia-group-settings");
  await banned.locator("button", { hasText: "Unban" }).click();
  await seeLine(gia, `${giaName} unbanned ${ivyName}`);
  await seeLine(hal, `${giaName} unbanned ${ivyName}`);
  await gia.locator('#group-info ul[aria-label="Banned"] li', { hasText: "No one is banned." }).waitFor();
  await gia.locator("#group-info [name=mute_all]").click();
  await seeLine(gia, `${giaName} unmuted everyone`);
  await seeLine(hal, `${giaName} unmuted everyone`);
  console.log("ok: a ban with its reason and an unban; everyone muted and unmuted; the lines show");

  // --- ownership moves, after a confirm ------------------------------------
  row = await manage(halName);
  gia.once("dialog", (d) => d.accept());
  await row.locator("button", { hasText: "Make owner" }).click();
  await seeLine(gia, `${giaName} made ${halName} the owner`);
  await seeLine(hal, `${giaName} made ${halName} the owner`);
  await memberRow(gia, halName).locator(".role", { hasText: "owner" }).waitFor({ timeout: 10_000 });
  await memberRow(gia, giaName).locator(".role", { hasText: "admin" }).waitFor();
  await hal.click("#chat-info");
  await panel(hal).waitFor();
  await hal.locator('#group-info input[value="JOIN_POLICY_APPROVAL"]:checked').waitFor();
  check(await hal.locator("#group-info button", { hasText: "Make owner" }).count() > 0, "the new owner can pass it on");
  await hal.keyboard.press("Escape");
  console.log("ok: the owner makes a member the owner after a confirm; the new owner gets the settings");

  // --- the timelines and the list --------------------------------------------
  await gia.keyboard.press("Escape");
  await gia.waitForFunction(() => !document.querySelector("#group-info").open);
  await gia.locator("#conversations li", { hasText: groupName }).locator(".last", { hasText: `${giaName} made ${halName} the owner` }).waitFor();
  for (const page of [gia, hal]) {
    check(await page.locator("#message-list .bubble", { hasText: "Unsupported" }).count() === 0, "no event shows as unsupported");
    check(await page.locator("#message-list .event button").count() === 0, "an event line has no actions");
  }
  await say(gia, "welcome, both of you");
  await gia.mouse.move(0, 0);
  await shot(gia, "gia-group-events");
  await hal.mouse.move(0, 0);
  await shot(hal, "hal-group-events");

  if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join("; ")}`);
  console.log(`ok: group governance in the page; screenshots in ${shots}`);
} catch (err) {
  for (const [name, page] of Object.entries(open)) await page.screenshot({ path: `${shots}/groups-${name}-failed.png` }).catch(() => {});
  throw err;
} finally {
  await browser.close();
}
