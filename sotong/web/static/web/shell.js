// Keyboard shortcuts for the navigation: g then a letter (g i: inbox, g s: settings…).
(function () {
  let awaitingSecondKey = false;
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (awaitingSecondKey) {
      awaitingSecondKey = false;
      const link = document.querySelector('.sidenav a[data-shortcut="' + event.key + '"]');
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (event.key === "g") { awaitingSecondKey = true; setTimeout(function () { awaitingSecondKey = false; }, 1500); }
  });
})();
