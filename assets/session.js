// A callback refused with 401 means the session ended: go to the sign-in page instead of
// leaving a page that silently stops saving.
(function () {
  const original = window.fetch;
  window.fetch = async function (...args) {
    const response = await original.apply(this, args);
    const url = String(args[0] && args[0].url ? args[0].url : args[0]);
    if (response.status === 401 && url.includes("/_dash-")) {
      const here = window.location.pathname + window.location.search;
      window.location.assign("/login?next=" + encodeURIComponent(here));
    }
    return response;
  };
})();
