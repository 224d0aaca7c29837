// The episode page's and the embed's player: chapter and transcript times seek the audio and start it,
// and a link ending in #t=SECONDS (or #t=1:23) opens the page playing from there. Without this file the
// page is a plain <audio> element with the chapters and transcript still readable.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;

  function seconds(text) {
    var parts = String(text).split(":").map(parseFloat);
    if (parts.some(isNaN)) return null;
    return parts.reduce(function (total, part) { return total * 60 + part; }, 0);
  }

  function playFrom(start) {
    player.currentTime = start;
    var playing = player.play();
    if (playing && playing.catch) playing.catch(function () {});  // autoplay refused: the position is set
  }

  document.querySelectorAll("[data-start]").forEach(function (control) {
    control.addEventListener("click", function (event) {
      event.preventDefault();
      playFrom(parseFloat(control.dataset.start));
      if (control.getAttribute("href")) history.replaceState(null, "", control.getAttribute("href"));
    });
  });

  function fromHash() {
    var match = /^#t=([0-9:.]+)$/.exec(window.location.hash);
    var start = match ? seconds(match[1]) : null;
    if (start === null) return;
    if (player.readyState >= 1) playFrom(start);
    else player.addEventListener("loadedmetadata", function () { playFrom(start); }, {once: true});
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
