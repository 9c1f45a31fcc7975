// Keyboard shortcuts: a label's key (shown on its button: its own hotkey, else 1-9 by
// place) picks it; ArrowRight/n next; ArrowLeft/p previous; s suggest
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
    const pressed = (event.key || "").toLowerCase();
    const keyed = Array.prototype.find.call(
      document.querySelectorAll(".label-button"),
      function (b) {
        const key = b.querySelector(".label-key");
        return key && key.textContent.trim().toLowerCase() === pressed;
      }
    );
    if (pressed.length === 1 && keyed) {
      keyed.click(); event.preventDefault();
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
