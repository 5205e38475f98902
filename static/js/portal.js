// Warns a signed-in user shortly before the idle timeout signs them out, and reloads the
// page when it has passed so the sign-in screen shows instead of stale data.
(function () {
  "use strict";
  var body = document.body;
  var timeout = parseInt(body.getAttribute("data-idle-timeout") || "0", 10);
  if (!timeout) {
    return;
  }
  var warnBefore = Math.min(120, Math.floor(timeout / 4));
  var lastActivity = Date.now();
  var warning = null;

  function showWarning() {
    if (warning) {
      return;
    }
    warning = document.createElement("div");
    warning.className = "usa-alert usa-alert--warning usa-alert--slim portal-idle-warning";
    warning.setAttribute("role", "alert");
    warning.innerHTML =
      '<div class="usa-alert__body"><p class="usa-alert__text">You will be signed out soon ' +
      "for inactivity. Move the mouse or press a key to stay signed in.</p></div>";
    body.appendChild(warning);
  }

  function onActivity() {
    var idleFor = (Date.now() - lastActivity) / 1000;
    lastActivity = Date.now();
    if (warning) {
      warning.remove();
      warning = null;
      // Tell the server about the activity, or its idle clock would still run out.
      if (idleFor > 30) {
        fetch(window.location.href, { method: "HEAD", credentials: "same-origin" });
      }
    }
  }

  ["keydown", "mousedown", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, onActivity, { passive: true });
  });

  window.setInterval(function () {
    var idle = (Date.now() - lastActivity) / 1000;
    if (idle >= timeout) {
      window.location.reload();
    } else if (idle >= timeout - warnBefore) {
      showWarning();
    }
  }, 5000);
})();
