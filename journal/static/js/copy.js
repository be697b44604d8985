// "Copy" buttons: copy the text of the element named by data-copy-target.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(target.value || target.textContent).then(function () {
        button.textContent = button.getAttribute("data-copied-label") || "Copied";
      });
    });
  });
})();
