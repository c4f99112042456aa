// A group's card: its members and their roles (paged); Join, Ask to join
// (an approval group: an admin decides) or why not (invite-only); Leave,
// Open chat. For the owner and admins it is the group's settings too: who
// can join, mute everyone, history for new members; pending requests;
// each member's actions the caller may take (make or remove admin: the
// owner; mute, remove, ban: whom the caller outranks; make owner); invite
// links; bans; the open reports of its messages (Dismiss, Delete message:
// recalled for everyone, Ban sender). Others may report the group. The
// server decides: its refusals are shown in the card.
// Links `#join=<code>` join by invite (joinByInvite, from js/main.js).
import { call, U, G, C, remember, user } from "../api.js";
import { $, el, avatar, ago, shortWhen } from "../format.js";
import { preview, quote } from "../messages.js";
import { state } from "../store.js";
import { open } from "./chat.js";
import { showProfile } from "./profile.js";
import { reportButton } from "./report.js";

const MEMBERS_PAGE = 20;
const HOUR = 3600_000;
const OWNER = "GROUP_ROLE_OWNER";
const ADMIN = "GROUP_ROLE_ADMIN";
const MEMBER = "GROUP_ROLE_MEMBER";
const POLICIES = [["JOIN_POLICY_OPEN", "Anyone can join"], ["JOIN_POLICY_APPROVAL", "Anyone can ask; an admin approves"], ["JOIN_POLICY_INVITE_ONLY", "Only with an invite link"]];
const policyName = { JOIN_POLICY_OPEN: "open", JOIN_POLICY_APPROVAL: "approval to join", JOIN_POLICY_INVITE_ONLY: "invite-only" };

const requested = new Set(); // groups this page asked to join (JoinGroup answered a request)
let card = null; // the card on screen
let notify = () => {};

const isMe = (id) => String(id) === String(state.me.id);
const mutedNow = (m) => !!m.muted_until && Date.parse(m.muted_until) > Date.now();
export const inviteLink = (code) => `${location.origin}${location.pathname}#join=${encodeURIComponent(code)}`;

function button(text, onClick, className = "secondary", key = text) {
  const b = el("button", { type: "button", className, textContent: text });
  b.dataset.key = key;
  b.addEventListener("click", onClick);
  return b;
}

// load fetches what the card shows (the members as far as paged before)
// and shows it, unless a later load began meanwhile.
async function load(c) {
  const gen = ++c.gen;
  const { group: g } = await call(G("GetGroup"), { id: c.id });
  const n = { g, member: true, members: [], total: 0, staff: false, requests: [], invites: [], bans: [], reports: [] };
  try {
    for (let page = 1; page <= c.pages; page++) {
      const resp = await call(G("GetGroupUser"), { id: c.id, page, page_size: MEMBERS_PAGE });
      remember(resp.user);
      n.members.push(...(resp.member || []));
      n.total = Number(resp.pager?.total_rows || 0);
      if (page * MEMBERS_PAGE >= n.total) break;
    }
  } catch (err) {
    if (err.code !== 7) throw err; // PermissionDenied: the members are shown to members only
    n.member = false;
  }
  n.total ||= Number(g.member_count || 0);
  const mine = n.members.find((m) => isMe(m.user.id));
  n.role = !n.member ? null : isMe(g.user_id) ? OWNER : mine?.role || MEMBER;
  n.staff = n.member && n.role !== MEMBER;
  if (n.member && !mine && n.role === MEMBER) {
    // Beyond the pages shown: a staff-only call says whether the caller is an admin.
    n.staff = await call(G("ListJoinRequests"), { group_id: c.id }).then(() => true, () => false);
    if (n.staff) n.role = ADMIN;
  }
  if (n.staff) {
    const [req, inv, bans, reps] = await Promise.all([
      call(G("ListJoinRequests"), { group_id: c.id }),
      call(G("ListGroupInvites"), { group_id: c.id }),
      call(G("ListGroupBans"), { group_id: c.id }),
      call(C("ListReports"), { group_id: c.id }).catch((err) => ({ error: err.message })),
    ]);
    // The names the reports show: who reported, whose message.
    await Promise.all((reps.report || []).flatMap((r) => [r.reporter_id, r.author_id]).map((id) => user(id).catch(() => null)));
    Object.assign(n, { requests: req.request || [], invites: inv.invite || [], bans: bans.ban || [], reports: reps.report || [], reportsError: reps.error });
  }
  if (gen !== c.gen) return;
  if (n.member) requested.delete(c.id);
  Object.assign(c, n);
  draw(c);
}

// act runs a change, then shows the card as it is now; a refusal is shown
// with the server's message. Done, the fields named clear are emptied.
async function act(c, fn, done = "", clear = []) {
  c.error.textContent = "";
  c.note.textContent = "";
  try {
    const said = await fn();
    c.note.textContent = typeof said === "string" ? said : done;
    for (const key of clear) c.cleared.add(key);
  } catch (err) {
    c.error.textContent = err.message;
  }
  await load(c).catch((err) => {
    c.error.textContent = err.message;
    draw(c);
  });
}

const until = (ms) => new Date(Date.now() + ms).toISOString();

// memberActions are what the caller may do to member m.
function memberActions(c, m) {
  const id = m.user.id;
  const name = m.user.nickname;
  const owner = c.role === OWNER;
  const outranks = !isMe(id) && (owner ? m.role !== OWNER : c.role === ADMIN && m.role === MEMBER);
  const out = [];
  const key = (k) => `${k} ${id}`;
  const gid = c.id;
  if (owner && !isMe(id)) {
    out.push(m.role === ADMIN
      ? button("Remove admin", () => act(c, () => call(G("SetGroupMemberRole"), { group_id: gid, user_id: id, role: MEMBER })), "secondary", key("role"))
      : button("Make admin", () => act(c, () => call(G("SetGroupMemberRole"), { group_id: gid, user_id: id, role: ADMIN })), "secondary", key("role")));
  }
  if (outranks) {
    if (mutedNow(m)) out.push(button("Unmute", () => act(c, () => call(G("MuteGroupMember"), { group_id: gid, user_id: id })), "secondary", key("mute")));
    else {
      out.push(button("Mute for 1 hour", () => act(c, () => call(G("MuteGroupMember"), { group_id: gid, user_id: id, until: until(HOUR) })), "secondary", key("mute")),
        button("Mute for 1 day", () => act(c, () => call(G("MuteGroupMember"), { group_id: gid, user_id: id, until: until(24 * HOUR) })), "secondary", key("mute1d")));
    }
    out.push(button("Remove from group", () => {
      if (confirm(`Remove ${name} from # ${c.g.name}?`)) act(c, () => call(G("QuitGroup"), { id: gid, user_id: id }), `${name} was removed`);
    }, "secondary danger", key("kick")));
    const ban = el("form", { className: "ban" },
      el("label", { className: "visually-hidden", htmlFor: `ban-${id}`, textContent: `Why ban ${name}` }),
      el("input", { id: `ban-${id}`, name: "reason", placeholder: "Reason for the ban (optional)", maxLength: 500 }),
      el("button", { className: "secondary danger", textContent: "Ban" }));
    ban.reason.dataset.key = key("reason");
    ban.addEventListener("submit", (event) => {
      event.preventDefault();
      act(c, () => call(G("BanGroupMember"), { group_id: gid, user_id: id, reason: ban.reason.value.trim() }), `${name} was banned`, [key("reason")]);
    });
    out.push(ban);
  }
  if (owner && !isMe(id)) {
    out.push(button("Make owner…", () => {
      if (confirm(`Make ${name} the owner of # ${c.g.name}? You will be an admin, and only ${name} can give it back.`)) {
        act(c, () => call(G("TransferGroupOwner"), { group_id: gid, user_id: id }), `${name} is the owner now`);
      }
    }, "secondary danger", key("owner")));
  }
  return out;
}

function memberRow(c, m) {
  const u = m.user;
  const role = m.role === OWNER ? "owner" : m.role === ADMIN ? "admin" : "";
  const who = el("button", { type: "button", className: "member" }, avatar(u, u.nickname, true),
    el("span", { className: "name", textContent: isMe(u.id) ? `${u.nickname} (you)` : u.nickname }),
    role ? el("span", { className: `meta role ${role}`, textContent: role }) : null,
    mutedNow(m) ? el("span", { className: "meta muted", textContent: `muted until ${shortWhen(new Date(m.muted_until))}` }) : null);
  who.dataset.key = `profile ${u.id}`;
  who.addEventListener("click", () => {
    $("#group-info").close();
    showProfile(u.id, notify).catch((err) => notify(err.message));
  });
  const actions = c.staff ? memberActions(c, m) : [];
  const li = el("li", { className: "member-row" }, who);
  li.dataset.user = u.id;
  if (!actions.length) return li;
  const panel = el("div", { className: "member-actions", id: `manage-${u.id}`, role: "group", ariaLabel: `Manage ${u.nickname}` }, actions);
  const shown = c.expanded.has(String(u.id));
  panel.hidden = !shown;
  const toggle = button("Manage", () => {
    c.expanded[shown ? "delete" : "add"](String(u.id));
    draw(c);
  }, "secondary small", `manage ${u.id}`);
  toggle.setAttribute("aria-expanded", String(shown));
  toggle.setAttribute("aria-controls", panel.id);
  toggle.ariaLabel = `Manage ${u.nickname}`;
  li.append(toggle, panel);
  return li;
}

function settings(c) {
  const g = c.g;
  const update = (fields) => act(c, () => call(G("UpdateGroup"), { id: c.id, ...fields }), "Saved");
  const radios = POLICIES.map(([value, label]) => {
    const input = el("input", { type: "radio", name: "join_policy", value, checked: g.join_policy === value });
    input.dataset.key = value;
    input.addEventListener("change", () => update({ join_policy: value }));
    return el("label", { className: "inline" }, input, label);
  });
  const box = (field, label) => {
    const input = el("input", { type: "checkbox", name: field, checked: !!g[field] });
    input.dataset.key = field;
    input.addEventListener("change", () => update({ [field]: input.checked }));
    return el("label", { className: "inline" }, input, label);
  };
  return [el("h3", { textContent: "Settings" }),
    el("fieldset", {}, el("legend", { textContent: "Who can join" }), radios),
    box("mute_all", "Mute everyone: only the owner and admins can send"),
    box("history_visible", "New members see the messages from before they joined")];
}

function requests(c) {
  if (c.g.join_policy !== "JOIN_POLICY_APPROVAL" && !c.requests.length) return [];
  const items = c.requests.map((r) => el("li", { className: "member-row" },
    el("span", { className: "member" }, avatar(r.user, r.user.nickname, true), el("span", { className: "name", textContent: r.user.nickname }),
      el("span", { className: "meta", textContent: `asked ${ago(new Date(r.created_at))}` })),
    button("Approve", () => act(c, () => call(G("DecideJoinRequest"), { request_id: r.id, approve: true }), `${r.user.nickname} joined`), "small", `approve ${r.id}`),
    button("Reject", () => act(c, () => call(G("DecideJoinRequest"), { request_id: r.id, approve: false }), `${r.user.nickname}'s request was rejected`), "secondary small", `reject ${r.id}`)));
  return [el("h3", {}, `Join requests (${c.requests.length})`, button("Check again", () => act(c, () => {}), "link", "requests")),
    el("ul", { className: "members requests", ariaLabel: "Join requests" }, items.length ? items : el("li", { className: "meta", textContent: "No one is waiting." }))];
}

function invites(c) {
  const form = el("form", { className: "invite-form" },
    el("label", {}, "Uses ", el("input", { type: "number", name: "uses", min: 0, max: 100000, placeholder: "any", className: "uses" })),
    el("label", {}, "Expires ", el("select", { name: "expires" },
      [["", "never"], [HOUR, "in 1 hour"], [24 * HOUR, "in 1 day"], [7 * 24 * HOUR, "in 7 days"]].map(([v, t]) => el("option", { value: v, textContent: t })))),
    el("button", { textContent: "Create link" }));
  form.uses.dataset.key = "uses";
  form.expires.dataset.key = "expires";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const ms = Number(form.expires.value);
    act(c, () => call(G("CreateGroupInvite"), { group_id: c.id, max_uses: Number(form.uses.value || 0), ...(ms ? { expires_at: until(ms) } : {}) }),
      "Link created: copy it below", ["uses", "expires"]);
  });
  const items = c.invites.map((i) => {
    const link = el("input", { readOnly: true, value: inviteLink(i.code), ariaLabel: "Invite link", className: "link-field" });
    link.addEventListener("focus", () => link.select());
    const uses = Number(i.max_uses) ? `used ${i.uses} of ${i.max_uses}` : `used ${i.uses} ${Number(i.uses) === 1 ? "time" : "times"}`;
    return el("li", { className: "invite" },
      el("div", { className: "row" }, link,
        button("Copy", async () => {
          link.select();
          const ok = await navigator.clipboard?.writeText(link.value).then(() => true, () => false) || document.execCommand("copy");
          c.note.textContent = ok ? "Link copied" : "Select the link and copy it";
        }, "secondary small", `copy ${i.code}`),
        button("Revoke", () => act(c, () => call(G("RevokeGroupInvite"), { code: i.code }), "Link revoked"), "secondary small danger", `revoke ${i.code}`)),
      el("span", { className: "meta", textContent: `${uses} · ${i.expires_at ? `expires ${shortWhen(new Date(i.expires_at))}` : "never expires"}` }));
  });
  return [el("h3", { textContent: "Invite links" }), form,
    el("ul", { className: "members invites", ariaLabel: "Invite links" }, items.length ? items : el("li", { className: "meta", textContent: "No usable links." }))];
}

function bans(c) {
  const items = c.bans.map((b) => el("li", { className: "member-row" },
    el("span", { className: "member" }, avatar(b.user, b.user.nickname, true), el("span", { className: "name", textContent: b.user.nickname }),
      el("span", { className: "meta", textContent: `${b.reason ? `${b.reason} · ` : ""}${ago(new Date(b.banned_at))}` })),
    button("Unban", () => act(c, () => call(G("UnbanGroupMember"), { group_id: c.id, user_id: b.user.id }), `${b.user.nickname} was unbanned`), "secondary small", `unban ${b.user.id}`)));
  return [el("h3", { textContent: "Banned" }),
    el("ul", { className: "members bans", ariaLabel: "Banned" }, items.length ? items : el("li", { className: "meta", textContent: "No one is banned." }))];
}

// reports are the group's open message reports, each with what the page
// has of the message (its loaded history), and the moderators' actions.
function reports(c) {
  const name = (id) => state.users.get(String(id))?.nickname || "Someone";
  const loaded = [...(state.histories.get(`g:${c.id}`)?.bySeq.values() || [])];
  const items = c.reports.map((r) => {
    const m = loaded.find((x) => String(x.id) === String(r.content_id));
    const [by, sender] = [name(r.reporter_id), name(r.author_id)];
    const resolve = (text, action, done, ask) => {
      const b = button(text, () => (!ask || confirm(ask)) && act(c, () => call(C("ResolveReport"), { id: r.id, action: `REPORT_ACTION_${action}` }), done),
        `secondary small${ask ? " danger" : ""}`, `${action} ${r.id}`);
      b.ariaLabel = `${text}: ${sender}'s message, reported by ${by}`;
      return b;
    };
    const unbannable = isMe(r.author_id) || String(r.author_id) === String(c.g.user_id); // the server bans neither
    return el("li", { className: "report" },
      el("span", { className: "meta", textContent: `${by} reported ${isMe(r.author_id) ? "your" : `${sender}'s`} message · ${ago(new Date(r.created_at))}` }),
      quote({ preview: m ? preview(m) : `message #${r.content_id}` }, sender),
      r.reason ? el("p", { className: "reason", textContent: `“${r.reason}”` }) : null,
      el("div", { className: "member-actions" }, resolve("Dismiss", "DISMISS", "Report dismissed"),
        resolve("Delete message", "DELETE_CONTENT", `${sender}'s message was deleted`, `Recall ${sender}'s message for everyone?`),
        unbannable ? null : resolve("Ban sender", "BAN_USER", `${sender} was banned`, `Ban ${sender} from # ${c.g.name}?`)));
  });
  const none = el("li", { className: c.reportsError ? "error" : "meta", textContent: c.reportsError || "No open reports." });
  return [el("h3", {}, `Reports (${c.reports.length})`, button("Check again", () => act(c, () => {}), "link", "reports")),
    el("ul", { className: "members reports", ariaLabel: "Reports" }, items.length ? items : none)];
}

function draw(c) {
  const dialog = $("#group-info");
  if (card !== c) return;
  const g = c.g;
  const cid = `g:${g.id}`;
  // Drawn again while the user is at it (a pushed event): what they were
  // typing and where they were stay.
  const again = c.drawn; // not another card's
  c.drawn = true;
  const focused = again && dialog.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  const scroll = again ? dialog.scrollTop : 0;
  const typed = new Map(!again ? [] : [...dialog.querySelectorAll("input[data-key]:not([type=radio]):not([type=checkbox]), select[data-key]")].map((n) => [n.dataset.key, n.value]));
  const actions = el("div", { className: "actions" });
  if (c.member) {
    actions.append(button("Open chat", () => {
      dialog.close();
      open(state.conversations.get(cid) || { conversation_id: cid, peer_group: g, last_seq: "0" });
    }, ""));
    if (c.role !== OWNER) {
      actions.append(button("Leave", () => act(c, async () => {
        await call(G("QuitGroup"), { id: g.id });
        return `You left ${g.name}`;
      })));
    }
  } else if (g.join_policy === "JOIN_POLICY_INVITE_ONLY") {
    actions.append(el("p", { className: "meta", textContent: "This group is invite-only: ask a member for an invite link." }));
  } else {
    const ask = g.join_policy === "JOIN_POLICY_APPROVAL";
    const b = button(requested.has(c.id) ? "Request sent" : ask ? "Ask to join" : "Join", () => act(c, async () => {
      const resp = await call(G("JoinGroup"), { id: g.id });
      if (Number(resp.request_id || 0) > 0) {
        requested.add(c.id);
        return "Request sent; an admin will decide.";
      }
      return `You joined ${g.name}`;
    }), "", "join");
    b.disabled = requested.has(c.id);
    actions.append(b);
  }
  if (!isMe(g.user_id)) actions.append(reportButton("GROUP", g.id, `# ${g.name}`));
  let add = null;
  if (c.member && (c.staff || g.join_policy === "JOIN_POLICY_OPEN")) {
    add = el("form", { className: "row" },
      el("label", { className: "visually-hidden", htmlFor: "add-member-name", textContent: "Add a member by nickname" }),
      el("input", { id: "add-member-name", name: "nickname", placeholder: "Add a member: nickname", required: true }),
      el("button", { textContent: "Add" }));
    add.nickname.dataset.key = "add";
    add.addEventListener("submit", (event) => {
      event.preventDefault();
      const nickname = add.nickname.value.trim();
      act(c, async () => {
        const resp = await call(U("QueryUser"), { keyword: nickname, page_size: 100 });
        const u = (resp.user || []).find((x) => x.nickname.toLowerCase() === nickname.toLowerCase());
        if (!u) throw new Error(`no user called ${nickname}`);
        await call(G("JoinGroup"), { id: g.id, user_id: u.id });
        return `${u.nickname} was added`;
      }, "", ["add"]);
    });
  }
  const members = el("ul", { className: "members", ariaLabel: "Members" },
    c.member ? c.members.map((m) => memberRow(c, m)) : el("li", { className: "meta", textContent: "Join to see who is here." }));
  const more = c.member && c.members.length < c.total ? button("More members", () => { c.pages++; act(c, () => {}); }, "secondary", "more") : null;
  const count = `${c.total} ${c.total === 1 ? "member" : "members"} · ${policyName[g.join_policy] || "open"}${g.mute_all ? " · everyone muted" : ""}`;
  dialog.replaceChildren(...[
    el("header", {}, avatar(g, g.name), el("div", {}, el("h2", { id: "group-name", textContent: `# ${g.name}` }),
      el("span", { className: "meta", textContent: count }))),
    g.introduction ? el("p", { textContent: g.introduction }) : null,
    actions, c.note, c.error,
    ...(c.staff ? settings(c) : []),
    ...(c.staff ? requests(c) : []),
    ...(c.staff ? reports(c) : []),
    el("h3", { textContent: "Members" }), members, more, add,
    ...(c.staff ? invites(c) : []),
    ...(c.staff ? bans(c) : []),
    el("form", { method: "dialog" }, el("button", { className: "secondary", textContent: "Close" }))].filter(Boolean));
  for (const n of dialog.querySelectorAll("input[data-key], select[data-key]")) {
    if (typed.has(n.dataset.key) && !c.cleared.has(n.dataset.key)) n.value = typed.get(n.dataset.key);
  }
  c.cleared.clear();
  dialog.scrollTop = scroll;
  if (focused) [...dialog.querySelectorAll("[data-key]")].find((n) => n.dataset.key === focused)?.focus();
}

// showGroup opens group id's card.
export async function showGroup(id, notifyWith = notify) {
  notify = notifyWith;
  const c = {
    id: String(id), gen: 0, pages: 1, members: [], requests: [], invites: [], bans: [], reports: [], expanded: new Set(), cleared: new Set(),
    note: el("p", { className: "note", role: "status" }), error: el("p", { className: "error", role: "alert" }),
  };
  card = c;
  await load(c);
  const dialog = $("#group-info");
  if (!dialog.open) dialog.showModal();
}

// onEvent takes a pushed group event: the card of its group, if open, is
// shown as it is now.
export function onEvent(m) {
  const c = card;
  if (!c || !$("#group-info").open || `g:${c.id}` !== m.conversation_id) return;
  clearTimeout(onEvent.timer);
  onEvent.timer = setTimeout(() => load(c).catch(() => {}), 300);
}

// joinByInvite joins the group of an invite code and opens its chat.
export async function joinByInvite(code) {
  const { group: g } = await call(G("JoinGroupByInvite"), { code });
  const cid = `g:${g.id}`;
  await open(state.conversations.get(cid) || { conversation_id: cid, peer_group: g, last_seq: "0" });
  return g;
}

export function setUp(options) {
  notify = options.notify;
  $("#group-info").addEventListener("close", () => { card = null; });
}
