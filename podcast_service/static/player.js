// The episode page's and the embed's player. Without this file the page is a plain <audio> element with
// the chapters and transcript still readable. The element asks for no audio before the listener plays it
// (preload="none": opening a page is not a download); the page gives the duration meanwhile
// (data-duration). With this file:
// - chapter and transcript times seek the audio and start it, and a link ending in #t=SECONDS (or
//   #t=1:23) opens the page playing from there;
// - the current chapter and transcript cue are highlighted as the audio plays (aria-current), and the
//   transcript scrolls to follow it;
// - skip buttons (-15 s, +30 s), a speed choice and the time left are added beside the player;
// - the space bar plays and pauses, the arrow keys skip, when no field or control has the focus;
// - the transcript can be searched on the page, and moving to another part of a long one keeps playing;
// - the waveform under the player shows the part played and seeks where it is clicked.
(function () {
  "use strict";
  var player = document.getElementById("player");
  if (!player) return;

  function seconds(text) {
    var parts = String(text).split(":").map(parseFloat);
    if (parts.some(isNaN)) return null;
    return parts.reduce(function (total, part) { return total * 60 + part; }, 0);
  }

  function clock(value) {
    var total = Math.max(0, Math.round(value)), h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60;
    var s = ("0" + (total % 60)).slice(-2);
    return h ? h + ":" + ("0" + m).slice(-2) + ":" + s : m + ":" + s;
  }

  function play() {
    var playing = player.play();
    if (playing && playing.catch) playing.catch(function () {});  // autoplay refused: the position is set
  }

  function playFrom(start) {
    player.currentTime = start;
    play();
  }

  // The duration: the audio's own once loaded, the page's before.
  function length() {
    return isFinite(player.duration) ? player.duration : parseFloat(player.dataset.duration);
  }

  function skip(by) {
    var end = isFinite(length()) ? length() : Infinity;
    player.currentTime = Math.min(end, Math.max(0, player.currentTime + by));
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
    if (start !== null) playFrom(start);  // before loading, the position the audio will start from
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  // Highlighting: the last item of a list whose start is not after the current time.
  function follower(selector, scroll) {
    var items = Array.prototype.slice.call(document.querySelectorAll(selector));
    var current = null;
    return function (time) {
      var found = null;
      items.forEach(function (item) { if (parseFloat(item.dataset.start) <= time + 0.05) found = item; });
      if (found === current) return;
      if (current) { current.removeAttribute("aria-current"); current.classList.remove("current"); }
      current = found;
      if (!current) return;
      current.setAttribute("aria-current", "true");
      current.classList.add("current");
      if (scroll && !player.paused) {
        var box = current.closest(".cues");
        if (box) box.scrollTop = current.offsetTop - box.offsetTop - box.clientHeight / 3;
      }
    };
  }
  var followChapters = follower(".chapters [data-start]", false);
  var followCues = follower(".cues [data-start]", true);

  // The controls come from the page (its <template>, in the page's language).
  var controls = document.getElementById("player-controls").content.firstElementChild.cloneNode(true);
  player.insertAdjacentElement("afterend", controls);
  controls.querySelectorAll("[data-skip]").forEach(function (button) {
    button.addEventListener("click", function () { skip(parseFloat(button.dataset.skip)); });
  });
  controls.querySelector("select").addEventListener("change", function (event) {
    player.playbackRate = parseFloat(event.target.value);
  });
  var left = controls.querySelector(".left");

  // The waveform drawn under the player (inline SVG from the stored peaks): the part played takes the
  // accent colour, and a click seeks to that point.
  var waveform = document.querySelector("svg.waveform");
  var waveStops = waveform ? waveform.querySelectorAll("stop") : [];
  if (waveform) {
    waveform.addEventListener("click", function (event) {
      if (!isFinite(length())) return;
      var box = waveform.getBoundingClientRect();
      playFrom(length() * Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)));
    });
  }

  function update() {
    followChapters(player.currentTime);
    followCues(player.currentTime);
    var total = length();
    if (waveStops.length && isFinite(total) && total > 0) {
      var played = String(player.currentTime / total);
      waveStops.forEach(function (stop) { stop.setAttribute("offset", played); });
    }
    if (isFinite(total)) {
      left.textContent = controls.dataset.left.replace("{time}", "-" + clock(total - player.currentTime));
    }
  }
  ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) { player.addEventListener(name, update); });
  update();

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || target.closest("input, textarea, select, button, a, audio, [contenteditable]")) return;
    if (event.key === " ") { event.preventDefault(); if (player.paused) play(); else player.pause(); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); skip(-15); }
    else if (event.key === "ArrowRight") { event.preventDefault(); skip(30); }
  });

  // A long transcript comes in parts, each a page of its own: going to another part while listening carries
  // the position along (#t=), so the audio resumes there instead of starting over.
  document.querySelectorAll(".transcript nav.pages a").forEach(function (link) {
    link.addEventListener("click", function () {
      if (player.currentTime > 0) link.href = link.href.split("#")[0] + "#t=" + player.currentTime.toFixed(1);
    });
  });

  var search = document.getElementById("transcript-search");
  if (search) {
    search.hidden = false;
    search.querySelector("input").addEventListener("input", function (event) {
      var words = event.target.value.trim().toLowerCase();
      var shown = 0;
      document.querySelectorAll(".cues p").forEach(function (cue) {
        var match = !words || cue.textContent.toLowerCase().indexOf(words) !== -1;
        cue.hidden = !match;
        if (match) shown += 1;
      });
      search.querySelector("output").textContent = words ? search.dataset.matching.replace("{count}", shown) : "";
    });
  }
})();
