// Reporting someone else's content to its moderators (ReportContent): a
// message, a post, a comment, a person, a group. A small dialog asks for an
// optional reason and says how the server answered. A group's owner and
// admins see its message reports in the group card (views/group.js).
import { call, C } from "../api.js";
import { $, el } from "../format.js";

// report opens the dialog for content of kind (MESSAGE, FEED, COMMENT,
// USER, GROUP) id; what names it ("this message"), shown shows it.
export function report(kind, id, what, shown = null) {
  const dialog = $("#report");
  const reason = el("textarea", { name: "reason", maxLength: 500, rows: 3 });
  const note = el("p", { className: "note", role: "status" });
  const error = el("p", { className: "error", role: "alert" });
  const send = el("button", { textContent: "Report" });
  const close = el("button", { type: "button", className: "secondary", textContent: "Cancel" });
  close.addEventListener("click", () => dialog.close());
  const form = el("form", {}, el("label", {}, "Why? (optional, up to 500 characters)", reason),
    note, error, el("div", { className: "actions" }, send, close));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    send.disabled = true;
    error.textContent = "";
    try {
      await call(C("ReportContent"), { kind: `REPORT_KIND_${kind}`, id: String(id), reason: reason.value.trim() });
      note.textContent = "Reported. Thank you.";
      reason.disabled = true;
      send.hidden = true;
      close.textContent = "Close";
      close.focus();
    } catch (err) {
      error.textContent = err.message;
      send.disabled = false;
    }
  });
  dialog.replaceChildren(el("h2", { id: "report-title", textContent: `Report ${what}` }), shown,
    el("p", { className: "meta", textContent: "Moderators will see it and your reason." }), form);
  dialog.showModal();
  reason.focus();
}

// reportButton is a Report button for report's dialog.
export function reportButton(kind, id, what, className = "secondary") {
  const b = el("button", { type: "button", className, textContent: "Report", ariaLabel: `Report ${what}` });
  b.addEventListener("click", () => report(kind, id, what));
  return b;
}
