// Fetch the next images of the batch while the labeler works on this one, so "Next"
// shows the next image from the browser's cache. The app route and presigned S3 URLs are
// both sent with Cache-Control, so a fetched image is not fetched again.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.concord = Object.assign(window.dash_clientside.concord || {}, {
  prefetch: function (urls) {
    const kept = (window.concordPrefetched = window.concordPrefetched || []);
    (urls || []).forEach(function (url) {
      const image = new Image();
      image.decoding = "async";
      image.src = url;
      kept.push(image); // keep a reference so the request is not dropped
    });
    kept.splice(0, Math.max(0, kept.length - 8));
    return (urls || []).length;
  },
});
