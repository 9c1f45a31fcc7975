// Keyboard shortcuts: 1-9 pick a label; ArrowRight/n next; ArrowLeft/p previous; s suggest
// and a accept all shown suggestions (only while the Suggest controls are shown).
// Ignored while typing in an input, a dropdown or a grid cell editor, in a side panel, and
// while the annotate view is hidden (another tab is open).
(function () {
  function typing(target) {
    if (!target) return false;
    const tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" ||
      target.isContentEditable ||
      !!target.closest(".ag-cell-inline-editing, .modal, .offcanvas");
  }
  function annotating() {
    const graph = document.getElementById("graph");
    return !!graph && graph.offsetParent !== null;
  }
  function click(id) {
    const element = document.getElementById(id);
    if (element && !element.disabled) element.click();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!annotating()) return;
    if (event.key >= "1" && event.key <= "9") {
      const buttons = document.querySelectorAll(".label-button");
      const button = buttons[Number(event.key) - 1];
      if (button) { button.click(); event.preventDefault(); }
    } else if (event.key === "ArrowRight" || event.key === "n") {
      click("next"); event.preventDefault();
    } else if (event.key === "ArrowLeft" || event.key === "p") {
      click("prev"); event.preventDefault();
    } else if (event.key === "s" || event.key === "a") {
      const panel = document.getElementById("suggest-panel");
      if (panel && panel.offsetParent !== null) {
        click(event.key === "s" ? "suggest-button" : "suggest-accept-all");
        event.preventDefault();
      }
    }
  });
})();
