// Herald admin: passkeys (WebAuthn). Adds a passkey on the account page
// and signs in with one on the sign-in pages. Pages work without it; the
// passkey controls stay hidden where the browser has no WebAuthn. Its own
// words come from the page (data-msg-failed, data-msg-closed), which has
// them in the reader's language; the server's answers are translated.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body, msgs) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json", "Accept": "application/json" },
      body: body ? JSON.stringify(body) : "{}"
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || msgs.failed);
        return j;
      });
    });
  }
  function show(el, text) { if (el) el.textContent = text; }
  // messages reads the page's words for what can go wrong.
  function messages(el) {
    return {
      failed: el.getAttribute("data-msg-failed") || "",
      closed: el.getAttribute("data-msg-closed") || ""
    };
  }
  function failed(el, msgs) {
    return function (e) {
      // A DOMException's own message is the browser's, in its language
      // and words: show the page's instead.
      var ours = e && !(e instanceof DOMException) && e.message;
      show(el, e && e.name === "NotAllowedError" ? msgs.closed : ours || msgs.failed);
    };
  }
  function descriptors(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64(c.id) }); });
  }

  // Add a passkey (account page).
  var reg = document.querySelector("[data-passkey-register]");
  if (reg) {
    var controls = reg.querySelector("[data-passkey-controls]");
    var add = document.getElementById("passkey-add");
    var problem = document.getElementById("passkey-problem");
    var regMsgs = messages(reg);
    if (controls) controls.hidden = false;
    if (add) add.addEventListener("click", function () {
      var csrf = reg.getAttribute("data-csrf");
      var name = document.getElementById("passkey-name").value;
      show(problem, "");
      post("/admin/account/passkeys/begin", csrf, null, regMsgs).then(function (c) {
        var pk = c.options.publicKey;
        pk.challenge = fromB64(pk.challenge);
        pk.user.id = fromB64(pk.user.id);
        pk.excludeCredentials = descriptors(pk.excludeCredentials);
        return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
          var body = {
            id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
            response: {
              clientDataJSON: toB64(cred.response.clientDataJSON),
              attestationObject: toB64(cred.response.attestationObject),
              transports: cred.response.getTransports ? cred.response.getTransports() : []
            },
            clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
          };
          return post("/admin/account/passkeys/finish?key=" + encodeURIComponent(c.key) + "&name=" + encodeURIComponent(name), csrf, body, regMsgs);
        });
      }).then(function () { window.location.reload(); }, failed(problem, regMsgs));
    });
  }

  // Sign in with a passkey (sign-in and second-factor pages).
  var login = document.querySelector("[data-passkey-login]");
  if (login) {
    var loginMsgs = messages(login);
    login.hidden = false;
    var btn = document.getElementById("passkey-signin");
    var lp = document.getElementById("passkey-problem");
    btn.addEventListener("click", function () {
      var csrf = login.getAttribute("data-csrf");
      show(lp, "");
      post("/admin/login/passkey/begin", csrf, null, loginMsgs).then(function (c) {
        var pk = c.options.publicKey;
        pk.challenge = fromB64(pk.challenge);
        pk.allowCredentials = descriptors(pk.allowCredentials);
        return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
          var r = cred.response;
          var body = {
            id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
            response: {
              clientDataJSON: toB64(r.clientDataJSON), authenticatorData: toB64(r.authenticatorData),
              signature: toB64(r.signature), userHandle: r.userHandle ? toB64(r.userHandle) : null
            },
            clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
          };
          var next = login.getAttribute("data-next") || "/admin/";
          return post("/admin/login/passkey/finish?key=" + encodeURIComponent(c.key) + "&next=" + encodeURIComponent(next), csrf, body, loginMsgs);
        });
      }).then(function (j) { window.location.assign(j.next); }, failed(lp, loginMsgs));
    });
  }
})();
