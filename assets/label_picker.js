// The label picker and the "who is annotating" header, in the browser: choosing a label
// and marking its button need no server, and neither does opening the name dialog.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.concord = Object.assign(window.dash_clientside.concord || {}, {
  // The clicked label button's name (keys 1-9 click the buttons: assets/keyboard.js).
  pickLabel: function (clicks) {
    const dc = window.dash_clientside;
    const trigger = dc.callback_context && dc.callback_context.triggered_id;
    if (!Array.isArray(clicks) || !clicks.some(Boolean) || !trigger || !trigger.index) {
      return dc.no_update;
    }
    return String(trigger.index);
  },
  // Fill the selected label's button with its colour, outline the others; an unknown
  // label (say, one removed from LABELS since it was picked) selects the first.
  markLabel: function (selected, buttons, styles) {
    const names = (buttons || []).map(function (b) { return b.index; });
    const chosen = names.indexOf(selected) >= 0 ? selected : names[0];
    const outlines = names.map(function (name) { return name !== chosen; });
    const marked = names.map(function (name, k) {
      const color = ((styles || [])[k] || {}).borderColor || "#6c757d";
      return name === chosen
        ? { borderColor: color, backgroundColor: color, color: "#fff", "--label-color": color }
        : { borderColor: color, color: "#212529", "--label-color": color };
    });
    return [outlines, marked];
  },
  // Local mode: the name dialog opens while no name is known, or on "Change name".
  nameDialog: function (annotator, change) {
    const dc = window.dash_clientside;
    const trigger = dc.callback_context && dc.callback_context.triggered_id;
    if (trigger === "change-name") {
      return [true, annotator || ""];
    }
    return [!annotator, dc.no_update];
  },
  annotatorBadge: function (annotator) {
    return annotator ? "Annotating as " + annotator : "Not signed in";
  },
});
