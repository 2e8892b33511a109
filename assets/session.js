/* Mizan: when the session has ended (signed out in another tab, 30 minutes idle, the 12-hour
   limit, or disabled by an administrator) the server answers the dashboard's requests with
   401. Go to the sign-in page, back here afterwards, instead of leaving a page that no
   longer updates. A file under assets/, so the Content-Security-Policy allows it. */
(function () {
  "use strict";
  var original = window.fetch;
  if (!original) {
    return;
  }
  window.fetch = function () {
    return original.apply(this, arguments).then(function (response) {
      if (response.status === 401) {
        var here = window.location.pathname + window.location.search;
        window.location.assign("/login?next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();
