// Invitation links carry their secret after '#', which browsers never send to a server.
// Copy it into the form so the person only has to choose a name and a passphrase.
(function () {
  "use strict";
  var secret = window.location.hash.slice(1);
  var input = document.querySelector("[data-fill-from-fragment]");
  if (!input || !secret) { return; }
  input.value = secret;
  // Take the secret out of the address bar and history.
  history.replaceState(null, "", window.location.pathname);
})();
