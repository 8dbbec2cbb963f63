// custos console: the only script (served from /console/assets, never inline).
// Everything works without it; it only adds a confirmation before forms that
// carry data-confirm (releasing a countermeasure) and moves focus to an error.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  var alert = document.querySelector("[role=alert]");
  if (alert) {
    alert.setAttribute("tabindex", "-1");
    alert.focus();
  }
});
