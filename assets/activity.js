// Active time per image: seconds the page was visible and focused and the labeler did
// something (mouse, keys, wheel, touch) in the last minute. When another image is shown,
// the seconds spent on the previous one go to the server (clientside callback below).
(function () {
  const IDLE_MS = 60000;
  const state = { key: null, annotator: null, seconds: 0, last: Date.now() };
  window.concordActivity = state;
  ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "pointerdown"].forEach(
    function (name) {
      document.addEventListener(name, function () { state.last = Date.now(); },
        { passive: true, capture: true });
    });
  setInterval(function () {
    const active = document.visibilityState === "visible" && document.hasFocus() &&
      Date.now() - state.last < IDLE_MS;
    if (state.key && active) state.seconds += 1;
  }, 1000);

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.concord = Object.assign(window.dash_clientside.concord || {}, {
    // A new image (or name): hand over the time spent on the previous one, start afresh.
    // A second pass on an image that came back (image.repeat) counts for `name#repeat`.
    timeSpent: function (image, name) {
      const key = image && !image.error ? image.key : null;
      const annotator = name && image && image.repeat ? name + "#repeat" : name;
      if (key === state.key && annotator === state.annotator) {
        return window.dash_clientside.no_update;
      }
      const spent = state.key && state.annotator && state.seconds > 0
        ? { key: state.key, annotator: state.annotator, seconds: state.seconds }
        : window.dash_clientside.no_update;
      state.key = key;
      state.annotator = annotator;
      state.seconds = 0;
      return spent;
    },
  });
})();
