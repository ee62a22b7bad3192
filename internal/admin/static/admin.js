// Herald admin: small progressive enhancements. Every page works without
// this file; it adds autosave and live previews to the composer, live
// progress to campaigns and imports, and confirmations to destructive forms.
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

  // Composer: autosave a moment after typing stops, then refresh previews.
  var composer = document.getElementById("composer");
  if (composer) {
    var state = document.getElementById("save-state");
    var problems = document.getElementById("problems");
    var timer = null, saving = false, again = false, stale = false;
    // A submit while an autosave is on its way waits for it, so the form
    // carries the revision that autosave made (not an older one, which
    // the server would refuse as someone else's change).
    var held = null;
    var setState = function (text, cls) {
      if (!state) return;
      state.textContent = text;
      state.className = "save-state " + (cls || "");
    };
    // The pre-send checks fetch every link, which takes seconds: they run
    // in the background after a save, one run at a time, and the editor
    // goes on typing meanwhile.
    var panel = document.getElementById("precheck");
    var checking = false, checkAgain = false;
    var precheck = function () {
      if (!panel) return;
      if (checking) { checkAgain = true; return; }
      checking = true;
      var st = document.getElementById("precheck-state");
      var list = document.getElementById("precheck-findings");
      st.textContent = "Checking links and images…";
      fetch(panel.getAttribute("data-precheck"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("status " + r.status);
          return r.json();
        }).then(function (rep) {
          list.textContent = "";
          (rep.findings || []).forEach(function (f) {
            var li = document.createElement("li");
            var b = document.createElement("span");
            b.className = "badge badge-amber";
            b.textContent = f.check;
            li.appendChild(b);
            li.appendChild(document.createTextNode(" " + f.message + (f.url && f.message.indexOf(f.url) < 0 ? " (" + f.url + ")" : "")));
            list.appendChild(li);
          });
          var n = (rep.findings || []).length;
          st.textContent = (n ? n + " to look at" : "Nothing to look at") + " · " + rep.links.length + " links and " +
            rep.images.length + " images fetched · " + Math.ceil(rep.html_bytes / 1024) + " KB of HTML";
        }).catch(function () {
          st.textContent = "The checks could not run; the edition is saved all the same.";
        }).finally(function () {
          checking = false;
          if (checkAgain) { checkAgain = false; precheck(); }
        });
    };
    var run = document.getElementById("precheck-run");
    if (run) run.addEventListener("click", function (e) { e.preventDefault(); precheck(); });
    precheck();
    // The previews wear the brand of the list chosen under them.
    var previewList = document.getElementById("preview-list");
    var refresh = function () {
      var list = previewList && previewList.value ? "&list=" + encodeURIComponent(previewList.value) : "";
      document.querySelectorAll("iframe[data-preview]").forEach(function (f) {
        var u = f.getAttribute("src").split("?")[0];
        f.setAttribute("src", u + "?t=" + Date.now() + list);
      });
      precheck();
    };
    if (previewList) previewList.addEventListener("change", refresh);
    var save = function () {
      if (stale) return;
      if (saving) { again = true; return; }
      saving = true;
      setState("Saving…", "saving");
      var data = new FormData(composer);
      data.delete("op");
      fetch(composer.getAttribute("data-autosave"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(composer), "Accept": "application/json" }
      }).then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      }).then(function (res) {
        if (res.saved) {
          setState("Saved at " + res.at, "saved");
          var rev = composer.querySelector("input[name=revision]");
          if (rev && res.revision) rev.value = res.revision;
        } else {
          if (res.stale) stale = true;
          setState(res.error || "Not saved", "saving");
        }
        if (problems) {
          problems.textContent = "";
          (res.problems || []).forEach(function (p) {
            var li = document.createElement("li");
            li.textContent = p;
            problems.appendChild(li);
          });
        }
        var file = composer.querySelector("input[name=hero_file]");
        if (file && file.value && res.hero) {
          file.value = "";
          var url = composer.querySelector("input[name=hero_url]");
          if (url) url.value = res.hero;
          var thumb = document.getElementById("hero-thumb");
          if (!thumb) {
            thumb = document.createElement("img");
            thumb.id = "hero-thumb";
            thumb.className = "hero-thumb";
            thumb.alt = "";
            file.parentNode.insertBefore(thumb, file);
          }
          thumb.src = res.hero;
        }
        refresh();
      }).catch(function () {
        setState("Could not save; your changes are still here. Use Save now.", "saving");
      }).finally(function () {
        saving = false;
        if (held) {
          var h = held;
          held = null;
          again = false;
          if (h.button) composer.requestSubmit(h.button); else composer.requestSubmit();
          return;
        }
        if (again) { again = false; save(); }
      });
    };
    // The desk: Enter in its search box searches, instead of pressing
    // the form's first button (which only saves).
    var deskQ = document.getElementById("desk_q");
    var deskSearch = document.getElementById("desk-search");
    composer.addEventListener("submit", function (e) {
      if (deskSearch && document.activeElement === deskQ && e.submitter !== deskSearch) {
        e.preventDefault();
        // Not from inside this submit event: a form ignores a submission
        // started while it is firing one.
        setTimeout(function () { deskSearch.click(); }, 0);
        return;
      }
      clearTimeout(timer);
      if (saving) {
        e.preventDefault();
        held = { button: e.submitter || null };
        setState("Saving…", "saving");
      }
    });
    var schedule = function () {
      setState("Unsaved changes", "");
      clearTimeout(timer);
      timer = setTimeout(save, 700);
    };
    composer.addEventListener("input", schedule);
    composer.addEventListener("change", schedule);
    composer.setAttribute("data-ready", "1");
  }

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
