// custos console: the only script (served from /console/assets, never inline).
// Everything but the proof check and passkeys works without it: it adds a
// confirmation before forms that carry data-confirm (releasing a
// countermeasure), moves focus to an error, checks an audit entry's
// inclusion proof in the browser (RFC 6962 / RFC 9162 hashing with
// crypto.subtle SHA-256), and runs the passkey (WebAuthn) ceremonies: the
// server's options go to navigator.credentials.create/get, the browser's
// answer goes back in a hidden form field, and the server checks it.
"use strict";

function hexToBytes(text) {
  if (typeof text !== "string" || text.length % 2 !== 0 || /[^0-9a-f]/i.test(text)) {
    throw new Error("the leaf is not hex");
  }
  var out = new Uint8Array(text.length / 2);
  for (var i = 0; i < out.length; i++) {
    out[i] = parseInt(text.substr(i * 2, 2), 16);
  }
  return out;
}

function base64ToBytes(text) {
  var raw = atob(text);
  var out = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) {
    out[i] = raw.charCodeAt(i);
  }
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (var i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

// SHA-256 of a prefix byte followed by the given byte arrays.
async function hashWithPrefix(prefix, parts) {
  var length = 1;
  parts.forEach(function (p) { length += p.length; });
  var buffer = new Uint8Array(length);
  buffer[0] = prefix;
  var offset = 1;
  parts.forEach(function (p) { buffer.set(p, offset); offset += p.length; });
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
}

// RFC 9162 section 2.1.3.2: the root an inclusion proof leads to, or null
// when the proof does not fit the index and tree size.
async function rootFromInclusion(index, size, leafHash, proof) {
  if (index >= size) return null;
  var fn = index;
  var sn = size - 1n;
  var r = leafHash;
  for (var i = 0; i < proof.length; i++) {
    var p = proof[i];
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await hashWithPrefix(1, [p, r]);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await hashWithPrefix(1, [r, p]);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

var LEAF_DOMAIN = "custos-audit/v1\n";

async function verifyInclusion(button, result) {
  result.className = "verify-result";
  result.textContent = "Checking…";
  if (!window.crypto || !crypto.subtle) {
    throw new Error("this browser offers no SHA-256 here (the page must be served over HTTPS)");
  }
  var response = await fetch(button.getAttribute("data-proof-url"), {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error("the server sent no proof (HTTP " + response.status + ")");
  var body = await response.json();
  var index = BigInt(button.getAttribute("data-index"));
  if (BigInt(body.index) !== index) throw new Error("the proof is for another entry");
  var leaf = hexToBytes(body.leaf);
  var text = new TextDecoder().decode(leaf);
  if (!text.startsWith(LEAF_DOMAIN)) throw new Error("the leaf lacks the custos-audit/v1 prefix");
  var fields = JSON.parse(text.slice(LEAF_DOMAIN.length));
  if (BigInt(fields.index) !== index) throw new Error("the leaf names index " + fields.index);
  if (fields.kind !== button.getAttribute("data-kind")) throw new Error("the leaf is not the entry shown");
  var leafHash = await hashWithPrefix(0, [leaf]);
  var proof = body.proof.map(base64ToBytes);
  var size = BigInt(body.checkpoint.size);
  var root = await rootFromInclusion(index, size, leafHash, proof);
  if (root === null) throw new Error("the audit path does not fit entry " + index + " of " + size);
  if (!sameBytes(root, base64ToBytes(body.checkpoint.root))) {
    throw new Error("the recomputed root differs from the checkpoint's root");
  }
  return "Verified: entry " + index + " is in the signed checkpoint of " + size +
    " entries (" + proof.length + " hashes recomputed in this browser).";
}


// ---------------------------------------------------------------- passkeys

var MOUNT = "/console";

function bytesToBase64url(buffer) {
  var bytes = new Uint8Array(buffer);
  var raw = "";
  for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64urlToBytes(text) {
  var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  while (b64.length % 4 !== 0) b64 += "=";
  return base64ToBytes(b64);
}

function withIds(list) {
  return (list || []).map(function (c) { return Object.assign({}, c, { id: base64urlToBytes(c.id) }); });
}

// PublicKeyCredentialCreationOptionsJSON -> options for create().
function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return Object.assign({}, json, {
    challenge: base64urlToBytes(json.challenge),
    user: Object.assign({}, json.user, { id: base64urlToBytes(json.user.id) }),
    excludeCredentials: withIds(json.excludeCredentials),
  });
}

// PublicKeyCredentialRequestOptionsJSON -> options for get().
function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return Object.assign({}, json, {
    challenge: base64urlToBytes(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  });
}

// The credential as RegistrationResponseJSON / AuthenticationResponseJSON.
function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  var r = credential.response;
  var out = {
    id: credential.id,
    rawId: bytesToBase64url(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: bytesToBase64url(r.clientDataJSON) },
  };
  if (r.attestationObject) {
    out.response.attestationObject = bytesToBase64url(r.attestationObject);
    out.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = bytesToBase64url(r.authenticatorData);
    out.response.signature = bytesToBase64url(r.signature);
    if (r.userHandle) out.response.userHandle = bytesToBase64url(r.userHandle);
  }
  return out;
}

// Asks the server for a ceremony's options (a CSRF-protected POST).
async function passkeyOptions(path, csrf) {
  var response = await fetch(MOUNT + path, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: csrf }).toString(),
  });
  var body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    throw new Error(body && body.error ? body.error : "the server refused (HTTP " + response.status + ")");
  }
  return body;
}

function passkeyFailure(error) {
  if (error && error.name === "NotAllowedError") {
    return "The passkey prompt was cancelled or timed out, or no passkey of this console is on this device.";
  }
  if (error && error.name === "InvalidStateError") {
    return "This authenticator already holds a passkey of yours.";
  }
  return (error && error.message) || "The passkey did not work.";
}

function setStatus(element, text, kind) {
  if (!element) return;
  element.className = "passkey-status" + (kind ? " " + kind : "");
  element.textContent = text;
}

function setUpPasskeys() {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  // Sign-in: a discoverable passkey; the answer is posted in the form.
  document.querySelectorAll("form[data-passkey-signin]").forEach(function (form) {
    var section = form.closest("section");
    if (section) section.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".passkey-status");
      setStatus(status, "Waiting for your passkey…");
      passkeyOptions("/signin/passkey/options", form.elements.csrf.value).then(function (json) {
        return navigator.credentials.get({ publicKey: requestOptions(json) });
      }).then(function (credential) {
        form.elements.credential.value = JSON.stringify(credentialJSON(credential));
        setStatus(status, "Signing in…");
        form.submit();
      }, function (error) {
        setStatus(status, "Failed: " + passkeyFailure(error), "failed");
      });
    });
  });

  // Adding a passkey: create() after the form's own checks passed.
  document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = form.querySelector(".passkey-status");
      setStatus(status, "Follow your browser's prompt to create the passkey…");
      passkeyOptions("/passkeys/register/options", form.elements.csrf.value).then(function (json) {
        return navigator.credentials.create({ publicKey: creationOptions(json) });
      }).then(function (credential) {
        form.elements.credential.value = JSON.stringify(credentialJSON(credential));
        setStatus(status, "Saving the passkey…");
        form.submit();
      }, function (error) {
        setStatus(status, "Failed: " + passkeyFailure(error), "failed");
      });
    });
  });

  // Step-up: a passkey assertion instead of the code; the person then
  // presses the form's own button (so a confirmation still comes first).
  document.querySelectorAll("[data-passkey-step-up]").forEach(function (button) {
    var form = button.closest("form");
    var box = button.closest(".passkey-step-up");
    if (!form || !box) return;
    box.hidden = false;
    button.addEventListener("click", function () {
      var status = box.querySelector(".passkey-status");
      button.disabled = true;
      setStatus(status, "Waiting for your passkey…");
      passkeyOptions("/passkeys/step-up/options", form.elements.csrf.value).then(function (json) {
        return navigator.credentials.get({ publicKey: requestOptions(json) });
      }).then(function (credential) {
        form.elements.webauthn.value = JSON.stringify(credentialJSON(credential));
        var code = form.elements.code;
        if (code) {
          code.required = false;
          code.disabled = true;
        }
        setStatus(status, "Passkey confirmed: now press " + button.getAttribute("data-passkey-step-up") + ".", "ok");
      }, function (error) {
        button.disabled = false;
        setStatus(status, "Failed: " + passkeyFailure(error), "failed");
      });
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  setUpPasskeys();
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  var button = document.getElementById("verify-proof");
  var result = document.getElementById("verify-result");
  if (button && result) {
    button.addEventListener("click", function () {
      button.disabled = true;
      verifyInclusion(button, result).then(function (message) {
        result.className = "verify-result ok";
        result.textContent = message;
      }, function (error) {
        result.className = "verify-result failed";
        result.textContent = "Failed: " + error.message;
      }).finally(function () {
        button.disabled = false;
      });
    });
  }
  var alert = document.querySelector("[role=alert]");
  if (alert) {
    alert.setAttribute("tabindex", "-1");
    alert.focus();
  }
});
