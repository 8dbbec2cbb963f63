// custos console: the only script (served from /console/assets, never inline).
// Everything but the proof check works without it: it adds a confirmation
// before forms that carry data-confirm (releasing a countermeasure), moves
// focus to an error, and checks an audit entry's inclusion proof in the
// browser (RFC 6962 / RFC 9162 hashing with crypto.subtle SHA-256).
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

document.addEventListener("DOMContentLoaded", function () {
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
