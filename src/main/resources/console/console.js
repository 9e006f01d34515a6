// phigate console: refresh the parts of a page marked data-refresh every two seconds, in place.
// Pages are complete without this script; it only saves reloading. No third-party code, no inline script.
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function refresh(el) {
    if (document.hidden) {
      return;
    }
    // Never pull a control out from under the keyboard or the pointer.
    if (el.contains(document.activeElement) && document.activeElement !== document.body) {
      return;
    }
    fetch(el.getAttribute("data-refresh"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/console/sign-in") >= 0) {
          window.location.reload(); // the sign-in ended: show the sign-in page
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined && html !== el.innerHTML) {
          el.innerHTML = html;
        }
      })
      .catch(function () { /* the gateway is restarting; try again next tick */ });
  }

  function start() {
    var targets = document.querySelectorAll("[data-refresh]");
    targets.forEach(function (el) {
      window.setInterval(function () { refresh(el); }, INTERVAL_MS);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
