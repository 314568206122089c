// Cloverleaf portal: small progressive enhancements. Every page works without this script.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }

  // The visitor's zone goes with a registration, so emails also show times in it.
  document.querySelectorAll("input[data-visitor-zone]").forEach(function (input) {
    if (!input.value && zone) {
      input.value = zone;
    }
  });

  // On an event page shown in the event's zone: offer the visitor's own zone (the page is rendered again with ?tz=).
  document.querySelectorAll("a[data-my-zone]").forEach(function (link) {
    if (!zone || zone === link.getAttribute("data-event-zone")) {
      return;
    }
    var label = link.getAttribute("data-label") || "{zone}";
    link.textContent = label.replace("{zone}", zone);
    link.href = window.location.pathname + "?tz=" + encodeURIComponent(zone);
    link.hidden = false;
  });

  // After a refused form, move the keyboard focus to the list of problems (it is announced too: role=alert).
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
