// When a new image arrives, make the axes span exactly the image. Plotly.react keeps the
// previous image's aspect constraint and widens one axis instead (grey bands around the
// image when two images differ in shape); a relayout with the ranges applies them afresh.
// Runs once per image (the figure's uirevision is the image key), so zoom is kept.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.concord = Object.assign(window.dash_clientside.concord || {}, {
  fitImage: function (figure) {
    const layout = figure && figure.layout;
    const gd = document.querySelector("#graph .js-plotly-plot");
    if (!layout || !layout.xaxis || !layout.yaxis || !layout.xaxis.range || !layout.yaxis.range
        || !gd || !window.Plotly) {
      return window.dash_clientside.no_update;
    }
    const key = layout.uirevision;
    const xRange = layout.xaxis.range;
    const yRange = layout.yaxis.range;
    const fit = function () {
      const full = gd._fullLayout;
      if (gd._concordFitted === key || !full || !full.xaxis || !full.yaxis) {
        return;
      }
      gd._concordFitted = key;
      const same = function (a, b) {
        return Math.abs(a[0] - b[0]) < 1e-6 && Math.abs(a[1] - b[1]) < 1e-6;
      };
      if (!same(full.xaxis.range, xRange) || !same(full.yaxis.range, yRange)) {
        window.Plotly.relayout(gd, { "xaxis.range": xRange, "yaxis.range": yRange });
      }
    };
    // The graph draws after this callback returns: fit once it has.
    setTimeout(fit, 0);
    if (gd.once) {
      gd.once("plotly_afterplot", fit);
    }
    return key;
  },
});
