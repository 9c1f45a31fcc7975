// LazyPane (components/lazy_pane.py): its children are mounted only once the pane has been
// shown, then stay mounted. A hidden tab's grids, graphs and inputs cost the page nothing
// until the tab is first opened, and the Annotate view's side column (suggestions, the
// shapes table, history, progress) is built once the picture shows (issue 17: first load).
window.concord_components = Object.assign(window.concord_components || {}, {
  LazyPane: function LazyPane(props) {
    return window.React.createElement(
      "div",
      {
        id: typeof props.id === "string" ? props.id : undefined,
        className: props.className,
        style: props.style,
      },
      props.shown ? props.children : null
    );
  },
});

// Resolves once the annotate figure's picture has loaded (or failed) and the page has had
// a frame to paint it, or after `timeout` ms whatever happened.
(function () {
  let shown = false;
  const waiting = [];
  const watch = function (event) {
    const target = event.target;
    if (!shown && target instanceof SVGImageElement && target.closest("#graph .imagelayer")) {
      shown = true;
      waiting.splice(0).forEach(function (resolve) { resolve(); });
    }
  };
  document.addEventListener("load", watch, true);
  document.addEventListener("error", watch, true);
  window.concordPictureShown = function (timeout) {
    return new Promise(function (resolve) {
      const painted = function () {
        window.requestAnimationFrame(function () { setTimeout(resolve, 0); });
        setTimeout(resolve, 100); // no frames while the page is hidden
      };
      if (shown) {
        painted();
        return;
      }
      waiting.push(painted);
      setTimeout(resolve, timeout);
    });
  };
})();

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.concord = Object.assign(window.dash_clientside.concord || {}, {
  // Shows the pane of the tab just opened; a pane once shown stays shown.
  showOpenedPane: function (activeTab, shown) {
    const outputs = window.dash_clientside.callback_context.outputs_list;
    return outputs.map(function (output, index) {
      return Boolean(shown[index]) || output.id.tab === activeTab;
    });
  },
  // Shows a pane once the first picture is on screen (at once if the figure has none).
  showAfterPicture: function (figure, shown) {
    if (shown) {
      return window.dash_clientside.no_update;
    }
    const images = figure && figure.layout && figure.layout.images;
    if (!images || !images.length) {
      return true;
    }
    return window.concordPictureShown(1500).then(function () { return true; });
  },
});
