// The inbox list by keyboard: j and k move between cases, Enter opens the one in focus
// (it is a link). The list is replaced every 10 seconds; the case in focus stays in focus.
(function () {
  let current = null; // the case id in focus
  function links() { return Array.from(document.querySelectorAll("#inbox-list a.case-link")); }
  function focusCase(id) {
    const link = document.querySelector('#inbox-list tr[data-case="' + id + '"] a.case-link');
    if (link) { link.focus(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "j" && event.key !== "k") return;
    const all = links();
    if (!all.length) return;
    let index = all.indexOf(document.activeElement);
    index = index < 0 ? (event.key === "j" ? 0 : all.length - 1) : index + (event.key === "j" ? 1 : -1);
    index = Math.max(0, Math.min(all.length - 1, index));
    event.preventDefault();
    all[index].focus();
  });
  document.addEventListener("focusin", function (event) {
    const row = event.target.closest && event.target.closest("#inbox-list tr[data-case]");
    document.querySelectorAll("#inbox-list tr.selected").forEach(function (r) { r.classList.remove("selected"); });
    if (row) { row.classList.add("selected"); current = row.getAttribute("data-case"); }
  });
  // Polling swaps the list: put the focus back on the case that had it.
  document.body.addEventListener("htmx:afterSwap", function () {
    if (current !== null && document.activeElement === document.body) focusCase(current);
  });
  // Do not swap while a person is typing in a filter or reading a focused row's menu.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "inbox-list" && document.hidden) event.preventDefault();
  });
})();
