// Herald admin: small progressive enhancements. Every page works without
// this file; it adds live progress to campaigns and imports, the segment
// editor's count, the start dialog, and confirmations to destructive forms.
// The composer's script is composer.js, loaded by the composer alone.
(function () {
  "use strict";

  function csrf(form) {
    var f = form.querySelector("input[name=csrf]");
    return f ? f.value : "";
  }

  // Confirm destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // A form with data-dialog asks in that dialog first (the start of a
  // campaign: its audience and readers). Without scripts the server's own
  // step page asks instead.
  document.querySelectorAll("form[data-dialog]").forEach(function (form) {
    var dlg = document.getElementById(form.getAttribute("data-dialog"));
    if (!dlg || typeof dlg.showModal !== "function") return;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      dlg.showModal();
    });
    dlg.querySelectorAll("[data-close]").forEach(function (b) {
      b.addEventListener("click", function () { dlg.close(); });
    });
  });

  // Live progress over server-sent events: fields named data-field.
  var live = document.querySelector("[data-events]");
  if (live && window.EventSource) {
    var src = new EventSource(live.getAttribute("data-events"));
    var fmt = function (n) { return Number(n).toLocaleString("en-GB"); };
    src.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      var set = function (name, v) {
        live.querySelectorAll("[data-field=" + name + "]").forEach(function (el) {
          if (el.tagName === "PROGRESS") el.value = v; else el.textContent = v;
        });
      };
      set("percent", p.percent);
      set("percent-text", p.percent + "%");
      ["sent", "deferred", "failed", "total", "imported", "updated", "skipped", "suppressed", "rejected", "rows"].forEach(function (k) {
        if (k in p) set(k, fmt(p[k]));
      });
      set("done", fmt(p.sent !== undefined ? p.sent : p.rows));
      if (p.rate) set("rate", p.rate);
      if (p.eta) set("eta", p.eta);
      var badge = document.getElementById("status-badge");
      if (badge && p.status) badge.textContent = p.status_text || p.status;
      if (p.state) set("state", p.state);
      if (p.done) {
        src.close();
        live.setAttribute("data-done", "1");
        // A finished import shows its first rejected rows and the link
        // to all of them, without a reload.
        var rj = live.querySelector("[data-rejects]");
        if (rj && p.first_rejects && p.first_rejects.length) {
          var body = rj.querySelector("tbody");
          body.textContent = "";
          p.first_rejects.forEach(function (row) {
            var tr = document.createElement("tr");
            [row.line, row.reason, row.row].forEach(function (v, i) {
              var td = document.createElement("td");
              td.className = ["num", "", "mono link-cell"][i];
              td.textContent = v;
              tr.appendChild(td);
            });
            body.appendChild(tr);
          });
          rj.hidden = false;
          var more = rj.querySelector("[data-field=more-rejects-text]");
          if (more) more.hidden = !p.more_rejects;
        }
        if (p.rejected) live.querySelectorAll("[data-when-done]").forEach(function (el) { el.hidden = false; });
        var bar = live.querySelector("progress");
        if (bar) bar.className = "done";
        // A finished campaign's page shows its statistics.
        if (live.hasAttribute("data-reload")) setTimeout(function () { window.location.reload(); }, 1200);
      }
    });
    src.onerror = function () { src.close(); };
  }
  // Segment editor: count the query's members as it is typed.
  var seg = document.getElementById("segment-editor");
  if (seg) {
    var q = seg.querySelector("textarea[name=query]");
    var out = document.getElementById("seg-count");
    var note = document.getElementById("seg-canonical");
    var sample = document.getElementById("seg-sample");
    var segTimer = null, seq = 0;
    var count = function () {
      var mine = ++seq;
      var data = new FormData();
      data.set("query", q.value);
      fetch(seg.getAttribute("data-count"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(seg), "Accept": "application/json" }
      }).then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      }).then(function (res) {
        if (mine !== seq) return; // a newer count is on its way
        note.textContent = "";
        if (res.error) {
          out.textContent = "–";
          var span = document.createElement("span");
          span.className = "error-text";
          span.textContent = res.error;
          note.appendChild(span);
          sample.textContent = "";
        } else {
          out.textContent = Number(res.count).toLocaleString("en-GB");
          note.textContent = "Reads as: " + res.query;
          sample.textContent = res.sample.length ? "For example: " + res.sample.join(", ") : "";
        }
        seg.setAttribute("data-counted", String(mine));
      }).catch(function () {
        if (mine === seq) note.textContent = "Count unavailable just now.";
      });
    };
    q.addEventListener("input", function () {
      clearTimeout(segTimer);
      segTimer = setTimeout(count, 300);
    });
    if (q.value) count();
  }
})();
