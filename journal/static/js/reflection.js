// Autosave for a client's reflection (DESIGN 5): every few seconds after typing and whenever
// a field loses focus, with a visible "saved" state. If the sign-in has ended, the words stay
// in this page (never in localStorage), a calm panel asks to sign in again, and the save is
// retried the moment that succeeds. If another tab saved meanwhile, saving stops and asks.
(function () {
  "use strict";
  var form = document.getElementById("reflection-form");
  if (!form) { return; }
  var statusEl = document.getElementById("save-status");
  var words = document.getElementById("i18n").dataset;
  var resumePanel = document.getElementById("resume-panel");
  var resumeForm = document.getElementById("resume-form");
  var resumeError = document.getElementById("resume-error");
  var conflictPanel = document.getElementById("conflict-panel");
  var versionInput = form.querySelector("input[name=edit_version]");
  var tokenInput = form.querySelector("input[name=csrf_token]");
  var dirty = false, saving = false, blocked = false, timer = null, conflictVersion = null;
  var DELAY_MS = 3000;

  function say(text) { statusEl.textContent = text; }

  function schedule() {
    dirty = true;
    say(words.unsaved);
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY_MS);
  }

  function save() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!dirty || saving || blocked) { return; }
    saving = true;
    dirty = false;
    say(words.saving);
    fetch(form.dataset.autosaveUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { dirty = true; blocked = true; askToSignIn(); return null; }
      if (response.status === 409) {
        dirty = true; blocked = true;
        return response.json().then(function (data) {
          conflictVersion = data.edit_version; conflictPanel.hidden = false;
        });
      }
      if (!response.ok) { throw new Error("status " + response.status); }
      return response.json().then(function (data) {
        versionInput.value = data.edit_version;
        if (!dirty) { say(words.saved + " " + data.saved_at); }
      });
    }).catch(function () {
      dirty = true;
      say(words.failed);
      timer = setTimeout(save, DELAY_MS * 3);
    }).then(function () {
      saving = false;
      if (dirty && !blocked && !timer) { timer = setTimeout(save, DELAY_MS); }
    });
  }

  function askToSignIn() {
    say(words.unsaved);
    resumePanel.hidden = false;
    document.getElementById("resume-login").focus();
  }

  resumeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = new FormData(resumeForm);
    body.append("csrf_token", tokenInput.value);
    fetch(form.dataset.resumeUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok) {
          resumeError.textContent = result.data.message; resumeError.hidden = false; return;
        }
        tokenInput.value = result.data.csrf_token;
        resumeForm.reset();
        resumeError.hidden = true;
        resumePanel.hidden = true;
        blocked = false;
        dirty = true;
        save();
      }).catch(function () {
        resumeError.textContent = words.failed; resumeError.hidden = false;
      });
  });

  document.getElementById("keep-this").addEventListener("click", function () {
    if (conflictVersion !== null) { versionInput.value = conflictVersion; }
    conflictPanel.hidden = true;
    blocked = false;
    dirty = true;
    save();
  });

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("focusout", function () { if (dirty) { save(); } });
  form.addEventListener("submit", function () { dirty = false; blocked = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty || saving) { event.preventDefault(); event.returnValue = ""; }
  });

  // Characters left, once a field is close to its limit.
  form.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var counter = document.getElementById(area.id + "-count");
    if (!counter) { return; }
    var original = counter.textContent;
    function update() {
      var left = area.maxLength - area.value.length;
      counter.textContent = left < 1000 ? left + " " + words.left : original;
    }
    area.addEventListener("input", update);
    update();
  });

  // Moving a slider means the person wants to answer it.
  form.querySelectorAll("input[type=range]").forEach(function (range) {
    var skip = document.getElementById(range.dataset.skip);
    var out = document.getElementById(range.id + "-out");
    range.addEventListener("input", function () {
      if (skip) { skip.checked = false; }
      if (out) { out.textContent = range.value; }
    });
  });
})();
