// Copy buttons for the public pages (the feed address, the embed code). Without this file the address
// and the code stay in their fields, selectable by hand; the buttons appear only where they work.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(message) {
        button.textContent = message;
        setTimeout(function () { button.textContent = label; }, 2000);
      }
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done("Copied"); },
                                                        function () { done("Press Ctrl+C to copy"); });
      } else {
        done(document.execCommand("copy") ? "Copied" : "Press Ctrl+C to copy");
      }
    });
  });
})();
