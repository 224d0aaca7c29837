// The admin's behaviour, loaded by every admin page (no inline script: the pages' Content-Security-Policy
// allows scripts from this site's files only). Each part acts on the elements it finds, if any.
(function () {
  "use strict";

  // The page's words, in its language, come in data-* attributes with {placeholders} to fill.
  function fill(words, values) {
    return words.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  // Uploads (.uploader blocks: the upload page and the edit page's "replace audio" form): the chosen file
  // goes by XHR so the bar can show bytes sent; the server answers with the page to go to.
  document.querySelectorAll(".uploader").forEach(function (box) {
    var input = box.querySelector("input[type=file]");
    var drop = box.querySelector(".drop");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    var limit = Number(box.dataset.limitBytes);
    function mb(n) { return (n / 1048576).toFixed(1) + " MB"; }
    function say(name, values) { return fill(box.dataset[name], values); }
    function fail(message) { text.textContent = message; text.setAttribute("role", "alert"); input.disabled = false; }
    function send(file) {
      if (!file) return;
      if (file.size > limit) { fail(say("tooLarge", {name: file.name, size: mb(file.size), limit: mb(limit)})); return; }
      var data = new FormData();
      data.append("csrf_token", box.dataset.csrf);
      data.append("audio", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", box.dataset.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", box.dataset.csrf);
      bar.hidden = false; bar.max = file.size; bar.value = 0; input.disabled = true;
      text.textContent = say("uploading", {name: file.name});
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        bar.max = e.total; bar.value = e.loaded;
        text.textContent = say("sent", {done: mb(e.loaded), total: mb(e.total), percent: Math.floor(100 * e.loaded / e.total)});
      };
      xhr.upload.onload = function () { text.textContent = say("reading", {}); };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) {}
        if (xhr.status >= 200 && xhr.status < 300 && body.edit_url) { window.location = body.edit_url; return; }
        fail((body.error && body.error.message) || say("failed", {status: xhr.status}));
      };
      xhr.onerror = function () { fail(say("broken", {})); };
      xhr.send(data);
    }
    input.addEventListener("change", function () { send(input.files[0]); });
    if (drop) {
      ["dragenter", "dragover"].forEach(function (n) { drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
      ["dragleave", "drop"].forEach(function (n) { drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
      drop.addEventListener("drop", function (e) { send(e.dataTransfer.files[0]); });
    }
  });

  // Follow a background job: its state is asked for every 2 s; `each(state)` updates the page and says
  // whether the job goes on (false: it ended, and the page is loaded again to show the outcome).
  function follow(url, each) {
    function step() {
      fetch(url, {headers: {"Accept": "application/json"}}).then(function (r) { return r.json(); })
        .then(function (state) {
          if (each(state) === false) { window.location.reload(); return; }
          setTimeout(step, 2000);
        }).catch(function () { setTimeout(step, 5000); });
    }
    setTimeout(step, 2000);
  }

  // While the audio is processed, follow the job's progress; reload once it ends (the files table changes).
  (function () {
    var box = document.getElementById("audio-state");
    if (!box || !box.dataset.poll) return;
    var bar = box.querySelector("progress"), text = box.querySelector(".progress-text");
    follow(box.dataset.poll, function (state) {
      if (state.state !== "processing") return false;
      bar.value = state.job.progress; text.textContent = state.job.progress + " %";
    });
  })();

  // A feed import: episodes handled of all, and megabytes fetched, until it ends.
  (function () {
    var box = document.getElementById("import-state");
    if (!box || !box.dataset.poll) return;
    var bar = box.querySelector("progress"), text = box.querySelector(".progress-text");
    follow(box.dataset.poll, function (s) {
      if (s.state !== "queued" && s.state !== "running") return false;
      var label = box.querySelector(".import-label");
      label.textContent = label.dataset[s.state];
      bar.max = s.items_total || 1; bar.value = s.items_done;
      var values = {done: s.items_done, total: s.items_total, imported: s.imported, present: s.present,
                    failed: s.failed, mb: (s.bytes_fetched / 1e6).toFixed(1)};
      text.textContent = fill(text.dataset.words, values);
    });
  })();

  // Forms that destroy something ask first (data-confirm holds the question).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
