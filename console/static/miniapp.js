// Inside Telegram, the Mini App's address carries its signed initData (tgWebAppData) after
// the '#'. It is handed to the server, which checks its HMAC and opens a session.
"use strict";
(function () {
  var data = new URLSearchParams(window.location.hash.slice(1)).get("tgWebAppData") || "";
  function refused() {
    document.querySelectorAll(".waiting").forEach(function (e) { e.hidden = true; });
    document.querySelectorAll(".refused").forEach(function (e) { e.hidden = false; });
  }
  if (!data) { refused(); return; }
  fetch("/app/signin", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ init_data: data }).toString(),
  }).then(function (response) {
    if (response.status === 204) { window.location.replace("/queue"); } else { refused(); }
  }, refused);
})();
