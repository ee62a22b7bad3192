// Herald's composer: autosave a moment after typing stops, keep what was
// typed when a save fails (retrying, and saying so), save the last words
// when the page is left, upload pictures pasted or dropped into the text,
// refresh the previews and run the pre-send checks. The page works
// without this file; its words come from the admin's catalog
// (#composer-words).
(function () {
  "use strict";

  var composer = document.getElementById("composer");
  if (!composer) return;
  var words = {};
  try { words = JSON.parse(document.getElementById("composer-words").textContent) || {}; } catch (e) { words = {}; }
  // say returns a message with {name} placeholders filled in.
  var say = function (key, args) {
    var s = words[key] || key;
    Object.keys(args || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(args[k])); });
    return s;
  };
  var csrf = function () {
    var f = composer.querySelector("input[name=csrf]");
    return f ? f.value : "";
  };
  var megabytes = function (n) {
    var mb = n / 1048576;
    return (mb < 10 ? mb.toFixed(1) : Math.round(mb)) + " MB";
  };
  var maxImage = Number(composer.getAttribute("data-max-image")) || 0;

  var state = document.getElementById("save-state");
  var problems = document.getElementById("problems");
  var setState = function (text, cls) {
    if (!state) return;
    // A failure interrupts; progress does not. The politeness is set
    // before the words, which are announced as they change.
    state.setAttribute("aria-live", cls === "failed" ? "assertive" : "polite");
    state.textContent = text;
    state.className = "save-state " + (cls || "");
  };

  // The problem list: each links to its field.
  var showProblems = function (list) {
    if (!problems) return;
    problems.textContent = "";
    (list || []).forEach(function (p) {
      var li = document.createElement("li");
      if (p.field && document.getElementById(p.field)) {
        var a = document.createElement("a");
        a.href = "#" + p.field;
        a.setAttribute("data-field", p.field);
        a.textContent = p.text;
        li.appendChild(a);
      } else {
        li.textContent = p.text;
      }
      problems.appendChild(li);
    });
  };
  if (problems) problems.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-field]");
    if (!a) return;
    var f = document.getElementById(a.getAttribute("data-field"));
    if (f) { e.preventDefault(); f.focus(); f.scrollIntoView({ block: "center" }); }
  });

  // The pre-send checks fetch every link, which takes seconds: they run in
  // the background after a save, one run at a time.
  var panel = document.getElementById("precheck");
  var checking = false, checkAgain = false;
  var precheck = function () {
    if (!panel) return;
    if (checking) { checkAgain = true; return; }
    checking = true;
    var st = document.getElementById("precheck-state");
    var list = document.getElementById("precheck-findings");
    st.textContent = say("checking");
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
        st.textContent = (n ? say("to_look_at", { n: n }) : say("nothing_to_look_at")) + " · " +
          say("fetched", { links: rep.links.length, images: rep.images.length, kb: Math.ceil(rep.html_bytes / 1024) });
      }).catch(function () {
        st.textContent = say("check_failed");
      }).finally(function () {
        checking = false;
        if (checkAgain) { checkAgain = false; precheck(); }
      });
  };
  var run = document.getElementById("precheck-run");
  if (run) run.addEventListener("click", function (e) { e.preventDefault(); precheck(); });
  precheck();

  // The previews wear the brand of the list chosen above them.
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

  // Autosave. edits counts changes; saved is the count the server has.
  // A failed save keeps the form as it is, says so, and tries again later
  // (2, 4, 8 … 30 seconds), sooner on the next keystroke.
  var timer = null, retryTimer = null, saving = false, again = false, stale = false;
  var edits = 0, saved = 0, failures = 0, leaving = false;
  var held = null; // a submit waiting for the autosave on its way
  var dirty = function () { return edits !== saved; };
  var heroFile = composer.querySelector("input[name=hero_file]");
  var heroNote = document.getElementById("hero_file-note");
  var note = function (el, text, bad) {
    if (!el) return;
    el.textContent = text || "";
    el.className = "field-note" + (bad ? " field-error" : "");
  };
  // This page's token: the server takes a save of this page on top of
  // one of its own that crossed it on the way (the save sent on leaving,
  // while an autosave still runs), never on top of someone else's.
  var tab = (function () {
    try {
      var a = new Uint32Array(4);
      window.crypto.getRandomValues(a);
      return Array.prototype.map.call(a, function (n) { return n.toString(36); }).join("");
    } catch (e) { return ""; }
  })();
  var formData = function (upto) {
    var data = new FormData(composer);
    data.delete("op");
    if (tab) { data.set("tab", tab); data.set("seq", String(upto)); }
    return data;
  };
  // While the server does not take the form, a copy of its text fields
  // waits in this browser, so a closed tab or a restart of the browser
  // loses nothing either; the next successful save drops it.
  var backupKey = "herald-composer:" + composer.getAttribute("action");
  var revision = function () {
    var rev = composer.querySelector("input[name=revision]");
    return rev ? rev.value : "";
  };
  var backup = function () {
    try {
      var fields = {};
      composer.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (el) {
        if (el.type === "file" || el.type === "hidden" || el.name === "csrf" || el.closest("#desk")) return;
        fields[el.name] = el.type === "checkbox" ? (el.checked ? "on" : "") : el.value;
      });
      window.localStorage.setItem(backupKey, JSON.stringify({ revision: revision(), fields: fields }));
    } catch (e) { /* storage full or disabled: the form still holds it */ }
  };
  var dropBackup = function () {
    try { window.localStorage.removeItem(backupKey); } catch (e) { /* nothing kept */ }
  };
  var failed = function (why) {
    backup();
    failures++;
    var wait = Math.min(30, Math.pow(2, failures));
    setState(say(why || "not_saved", { s: wait }), "failed");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(save, wait * 1000);
  };
  var save = function (opts) {
    opts = opts || {};
    clearTimeout(timer);
    clearTimeout(retryTimer);
    if (stale) return Promise.resolve(false);
    if (saving && !opts.keepalive) { again = true; return Promise.resolve(false); }
    saving = true;
    var upto = edits;
    setState(say("saving"), "saving");
    var data = formData(upto);
    var init = {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
    };
    if (opts.keepalive) {
      // The page is going: the browser finishes this request after it.
      // Keepalive bodies are limited (64 KB); a file is left to Save now.
      data.delete("hero_file");
      init.keepalive = true;
    }
    return fetch(composer.getAttribute("data-autosave"), init).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (res) {
      if (res.saved) {
        failures = 0;
        // Saves of this page may answer out of order: the later one counts.
        saved = Math.max(saved, upto);
        var rev = composer.querySelector("input[name=revision]");
        if (rev && res.revision && Number(res.revision) > Number(rev.value || 0)) rev.value = res.revision;
        if (!dirty()) dropBackup();
        setState(dirty() ? say("unsaved") : (res.state || say("saved")), dirty() ? "" : "saved");
      } else if (res.stale) {
        stale = true;
        setState(res.error, "failed");
      } else {
        setState(res.error || say("not_saved_plain"), "failed");
      }
      showProblems(res.problems);
      if (res.image_error) {
        note(heroNote, res.image_error, true);
        if (heroFile) heroFile.value = "";
      } else if (heroFile && heroFile.value && res.hero) {
        heroFile.value = "";
        note(heroNote, say("uploaded"), false);
        setHero(res.hero);
      }
      refresh();
      return !!res.saved;
    }).catch(function () {
      failed();
      return false;
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
  var setHero = function (url) {
    var u = composer.querySelector("input[name=hero_url]");
    if (u) u.value = url;
    var thumb = document.getElementById("hero-thumb");
    if (!thumb && heroFile) {
      thumb = document.createElement("img");
      thumb.id = "hero-thumb";
      thumb.className = "hero-thumb";
      thumb.alt = "";
      heroFile.parentNode.insertBefore(thumb, heroFile);
    }
    if (thumb) thumb.src = url;
  };

  // The desk: Enter in its search box searches, instead of pressing the
  // form's first button (which only saves).
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
      setState(say("saving"), "saving");
      return;
    }
    leaving = true; // the submit saves the form itself
  });
  var schedule = function (e) {
    if (e && e.target && e.target.closest && e.target.closest("#test-copy")) return;
    edits++;
    if (failures) backup();
    setState(failures ? say("not_saved_plain") : say("unsaved"), failures ? "failed" : "");
    clearTimeout(timer);
    timer = setTimeout(save, 700);
  };
  composer.addEventListener("input", schedule);
  composer.addEventListener("change", function (e) {
    if (e.target === heroFile && heroFile.files.length && maxImage && heroFile.files[0].size > maxImage) {
      // Refused here, with the sizes; the rest of the form saves.
      note(heroNote, say("image_too_large", { size: megabytes(heroFile.files[0].size), limit: megabytes(maxImage) }), true);
      heroFile.value = "";
    } else if (e.target === heroFile && heroFile.files.length) {
      note(heroNote, say("uploading"), false);
    }
    schedule(e);
  });

  // Leaving: the last words typed are saved on the way out, and the
  // browser asks first while anything is not saved.
  var sentOnLeaving = -1; // the edits the last save on the way out carried
  // A save still running when the page goes does not hold this one back:
  // the server takes it on top (see tab). Stale, nothing is sent (an
  // autosave never overwrites), but the browser keeps its copy and asks.
  var saveOnLeaving = function () {
    if (sentOnLeaving === edits) return;
    sentOnLeaving = edits;
    backup();
    if (!stale) save({ keepalive: true });
  };
  window.addEventListener("beforeunload", function (e) {
    if (leaving || !dirty()) return;
    saveOnLeaving();
    e.preventDefault();
    e.returnValue = "";
  });
  window.addEventListener("pagehide", function () {
    if (!leaving && dirty()) saveOnLeaving();
  });
  // A link inside the admin, or another form of the page (publish, a test
  // copy), saves first, then goes; if the save fails it asks.
  var saveThen = function (go) {
    // Wait for a save on its way, then save what is left.
    var settle = new Promise(function (done) {
      (function wait() { if (!saving) done(); else setTimeout(wait, 50); })();
    });
    settle.then(function () { return dirty() ? save() : true; }).then(function () {
      if (!dirty() || window.confirm(say("leave_unsaved"))) { leaving = true; go(); }
    });
  };
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target === "_blank") return;
    if (a.closest("#problems") || a.getAttribute("href").charAt(0) === "#") return;
    if (a.origin !== window.location.origin || !dirty()) return;
    e.preventDefault();
    saveThen(function () { window.location.href = a.href; });
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form === composer || e.defaultPrevented || !dirty()) return;
    e.preventDefault();
    var button = e.submitter;
    saveThen(function () {
      // The button's name and value go with the form, as a click's would.
      if (button && button.name) {
        var keep = document.createElement("input");
        keep.type = "hidden";
        keep.name = button.name;
        keep.value = button.value;
        form.appendChild(keep);
      }
      form.submit();
    });
  });

  // Pictures pasted or dropped into a text (the story, a text section)
  // are uploaded and written in as Markdown; onto the hero's fields, they
  // become the hero.
  var upload = function (file, done, noteEl) {
    if (maxImage && file.size > maxImage) {
      note(noteEl, say("image_too_large", { size: megabytes(file.size), limit: megabytes(maxImage) }), true);
      save(); // as the message says: the rest of the edition is saved
      return;
    }
    note(noteEl, say("uploading"), false);
    var data = new FormData();
    data.append("file", file, file.name || "picture");
    fetch(composer.getAttribute("data-upload"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (res) { return { ok: r.ok, res: res }; }, function () { return { ok: false, res: {} }; });
    }).then(function (x) {
      if (!x.ok || !x.res.url) { note(noteEl, x.res.error || say("upload_failed"), true); return; }
      note(noteEl, x.res.message || say("uploaded"), false);
      done(x.res.url);
    }).catch(function () {
      note(noteEl, say("upload_failed"), true);
    });
  };
  var imagesOf = function (dt) {
    var out = [];
    if (!dt || !dt.files) return out;
    for (var i = 0; i < dt.files.length; i++) if (/^image\//.test(dt.files[i].type)) out.push(dt.files[i]);
    return out;
  };
  composer.querySelectorAll("textarea[data-images]").forEach(function (ta) {
    var noteEl = document.getElementById(ta.id + "-note");
    var insert = function (url) {
      var alt = say("alt_placeholder");
      var at = ta.selectionStart, end = ta.selectionEnd;
      if (at !== end && ta.value.slice(at, end) === alt) {
        // The description of a picture just added is selected: the next
        // picture goes after it, not over it.
        var close = ta.value.indexOf(")", end);
        at = end = close >= 0 ? close + 1 : end;
      }
      var before = ta.value.slice(0, at), after = ta.value.slice(end);
      var md = (before && !/\n\n$/.test(before) ? (/\n$/.test(before) ? "\n" : "\n\n") : "") + "![" + alt + "](" + url + ")\n\n";
      ta.value = before + md + after;
      var s = before.length + md.indexOf("[") + 1;
      ta.focus();
      ta.setSelectionRange(s, s + alt.length); // typing replaces the description
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    };
    var take = function (e, dt) {
      var files = imagesOf(dt);
      if (!files.length) return;
      e.preventDefault();
      files.forEach(function (f) { upload(f, insert, noteEl); });
    };
    ta.addEventListener("paste", function (e) { take(e, e.clipboardData); });
    ta.addEventListener("dragover", function (e) { if (imagesOf(e.dataTransfer).length || (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0)) e.preventDefault(); });
    ta.addEventListener("drop", function (e) { take(e, e.dataTransfer); });
  });
  var heroURL = composer.querySelector("input[name=hero_url]");
  [heroURL, heroFile].forEach(function (el) {
    if (!el) return;
    var take = function (e, dt) {
      var files = imagesOf(dt);
      if (!files.length) return;
      e.preventDefault();
      upload(files[0], function (url) {
        setHero(url);
        heroURL.dispatchEvent(new Event("input", { bubbles: true }));
      }, heroNote);
    };
    if (el === heroURL) el.addEventListener("paste", function (e) { take(e, e.clipboardData); });
    el.addEventListener("dragover", function (e) { e.preventDefault(); });
    el.addEventListener("drop", function (e) { take(e, e.dataTransfer); });
  });

  // A copy kept in this browser comes back into the form unless the
  // edition as saved already holds it. Kept from this very version of the
  // edition, it is saved; kept from an earlier one (saved since, here or
  // elsewhere), it waits in the form for the editor to look and save.
  (function () {
    var kept = null;
    try { kept = JSON.parse(window.localStorage.getItem(backupKey) || "null"); } catch (e) { kept = null; }
    if (!kept || !kept.fields) return;
    var same = kept.revision === revision();
    var changed = false;
    // Compared as the server keeps a field (trimmed, \n line ends); the
    // slug of a saved version may have followed its date.
    var norm = function (v) { return String(v).replace(/\r\n/g, "\n").trim(); };
    Object.keys(kept.fields).forEach(function (name) {
      var el = composer.querySelector("[name=\"" + name.replace(/"/g, "") + "\"]");
      if (!el || (!same && name === "slug")) return;
      var v = kept.fields[name];
      if (el.type === "checkbox") {
        if (el.checked !== (v === "on")) { el.checked = v === "on"; changed = true; }
      } else if (norm(el.value) !== norm(v)) {
        el.value = v;
        changed = true;
      }
    });
    if (!changed) { dropBackup(); return; }
    edits++;
    if (!same) { setState(say("restored_check"), "failed"); return; }
    setState(say("restored"), "saving");
    save();
  })();

  composer.setAttribute("data-ready", "1");
})();
