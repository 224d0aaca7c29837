// Copy buttons for the public pages (the feed address, the embed code). Without this file the address
// and the code stay in their fields, selectable by hand; the buttons appear only where they work.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    if (!field) return;
    var label = button.textContent;  // data-copied and data-copy-failed say the outcome in the page's language
    button.hidden = false;
    button.addEventListener("click", function () {
      function done(message) {
        button.textContent = message;
        setTimeout(function () { button.textContent = label; }, 2000);
      }
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(button.dataset.copied); },
                                                        function () { done(button.dataset.copyFailed); });
      } else {
        done(document.execCommand("copy") ? button.dataset.copied : button.dataset.copyFailed);
      }
    });
  });
})();
