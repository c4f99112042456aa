// Type-ahead over people and groups (QueryUser, QueryGroup): debounced,
// arrow keys move, Enter opens, Esc closes.
import { call, U, G, remember } from "../api.js";
import { $, el, avatar, debounce } from "../format.js";
import { showGroup } from "./group.js";
import { showProfile } from "./profile.js";

let results = [];
let active = -1;

function close() {
  $("#search-results").hidden = true;
  $("#search-input").setAttribute("aria-expanded", "false");
  $("#search-input").removeAttribute("aria-activedescendant");
  active = -1;
}

function choose(r) {
  close();
  $("#search-input").value = "";
  if (r.user) showProfile(r.user.id);
  else showGroup(r.group.id);
}

function draw() {
  const box = $("#search-results");
  box.replaceChildren(...results.map((r, i) => {
    const name = r.user ? r.user.nickname : `# ${r.group.name}`;
    const item = el("li", { id: `search-${i}`, role: "option", ariaSelected: String(i === active) },
      avatar(r.user || r.group, r.user ? r.user.nickname : r.group.name, true),
      el("span", { textContent: name }),
      el("span", { className: "meta", textContent: r.user ? "person" : "group" }));
    item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(r); });
    return item;
  }));
  if (!results.length) box.append(el("li", { className: "meta", role: "option", ariaDisabled: "true", textContent: "Nobody and no group by that name" }));
  box.hidden = false;
  $("#search-input").setAttribute("aria-expanded", "true");
  if (active >= 0) {
    $("#search-input").setAttribute("aria-activedescendant", `search-${active}`);
    $(`#search-${active}`).scrollIntoView({ block: "nearest" });
  }
}

function failed(message) {
  results = [];
  active = -1;
  $("#search-results").replaceChildren(el("li", { className: "error", role: "option", ariaDisabled: "true", textContent: message }));
  $("#search-results").hidden = false;
}

const search = debounce(async (keyword) => {
  if (!keyword) return close();
  let users, groups;
  try {
    [users, groups] = await Promise.all([
      call(U("QueryUser"), { keyword, page_size: 8 }),
      call(G("QueryGroup"), { keyword, page_size: 5 }),
    ]);
  } catch (err) {
    return failed(err.message);
  }
  if ($("#search-input").value.trim() !== keyword) return; // typed on meanwhile
  remember(users.user);
  results = [...(users.user || []).map((user) => ({ user })), ...(groups.group || []).map((group) => ({ group }))];
  active = results.length ? 0 : -1;
  draw();
}, 200);

export function setUp() {
  const input = $("#search-input");
  input.addEventListener("input", () => search(input.value.trim()));
  input.addEventListener("keydown", (event) => {
    if ($("#search-results").hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!results.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + results.length) % results.length;
      draw();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(results[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}
