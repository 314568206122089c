// Cloverleaf check-in at the door, for phones (the page /organiser/events/{id}/check-in).
//
// Every scan or pick goes first into a queue kept on the phone (localStorage), then to the portal, and leaves the
// queue only once registration has answered it. A lost connection, a closed tab or a flat battery loses nothing;
// sending a scan twice checks in once (registration keeps the first time). The door list (names, statuses, codes)
// is kept too, so that the phone can still say whose code it scanned, and search by name, with no connection.
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) {
    return;
  }
  var T = JSON.parse(root.getAttribute("data-texts") || "{}");
  var eventId = root.getAttribute("data-event");
  var csrf = root.getAttribute("data-csrf");
  var base = "/organiser/events/" + eventId + "/check-in";
  var queueKey = "cloverleaf.door.queue." + eventId;
  var listKey = "cloverleaf.door.list." + eventId;
  var $ = function (name) {
    return root.querySelector("[data-" + name + "]");
  };
  var clock;
  try {
    clock = new Intl.DateTimeFormat(root.getAttribute("data-lang") || undefined, {
      timeZone: root.getAttribute("data-zone") || undefined,
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  } catch (e) {
    clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  var time = function (iso) {
    return clock.format(new Date(iso));
  };
  var say = function (key, values) {
    var text = T[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  };
  var read = function (key, fallback) {
    try {
      return JSON.parse(localStorage.getItem(key) || "null") || fallback;
    } catch (e) {
      return fallback;
    }
  };
  var queue = read(queueKey, []);
  var list = read(listKey, []);

  // ---- what the staff see ----
  var online = true;
  function connection(up, text) {
    online = up;
    var line = $("connection");
    line.textContent = text || (up ? T.online : T.offline);
    line.className = "door-connection " + (up ? "up" : "down");
  }
  function waiting() {
    var line = $("waiting");
    line.hidden = queue.length === 0;
    line.textContent = say("waiting", { n: queue.length });
  }
  function save() {
    try {
      localStorage.setItem(queueKey, JSON.stringify(queue));
    } catch (e) {
      // A full storage keeps the queue in memory; the page says how many wait.
    }
    waiting();
  }
  function show(kind, outcome, entry) {
    var card = $("result");
    card.hidden = false;
    card.className = "door-result " + kind;
    card.setAttribute("data-kind", kind);
    $("outcome").textContent = outcome;
    $("name").textContent = (entry && entry.name) || "";
    $("affiliation").textContent = (entry && entry.affiliation) || "";
    $("status").textContent = entry && entry.status ? T["status_" + entry.status] || entry.status : "";
    var needs = $("needs");
    needs.textContent = "";
    ((entry && entry.needs) || []).forEach(function (need) {
      var dt = document.createElement("dt");
      var lang = root.getAttribute("data-lang");
      dt.textContent = (lang === "zh-CN" && need.question_zh) || need.question;
      var dd = document.createElement("dd");
      dd.textContent = Array.isArray(need.answer) ? need.answer.join(", ") : String(need.answer);
      needs.appendChild(dt);
      needs.appendChild(dd);
    });
  }
  function known(item) {
    for (var i = 0; i < list.length; i++) {
      if ((item.code && list[i].code === item.code) || (item.id && list[i].registration_id === item.id)) {
        return list[i];
      }
    }
    return null;
  }
  function remember(entry) {
    var found = known({ id: entry.registration_id });
    if (found) {
      Object.keys(entry).forEach(function (k) {
        found[k] = entry[k];
      });
    } else {
      list.push(entry);
    }
    try {
      localStorage.setItem(listKey, JSON.stringify(list));
    } catch (e) {
      // Kept in memory only.
    }
  }

  // ---- sending ----
  var sending = false;
  function answered(item, status, body) {
    if (status === 200 && body && body.entry) {
      remember(body.entry);
      if (body.outcome === "checked_in") {
        show("ok", T.checked_in, body.entry);
      } else if (body.outcome === "already_checked_in") {
        show("again", say("already", { time: time(body.entry.checked_in_at) }), body.entry);
      } else {
        var label = T["status_" + body.entry.status] || body.entry.status;
        show("refused", say("not_admitted", { status: label }), body.entry);
      }
      return;
    }
    var reason = (body && (body.errors && body.errors[0] && body.errors[0].message)) || (body && body.title) || status;
    if (body && body.errors && body.errors[0]) {
      var code = body.errors[0].code;
      if (code === "unknown_code") reason = T.unknown_code;
      if (code === "other_event") reason = T.other_event;
    }
    show("refused", say("failed", { reason: reason }), known(item));
  }
  function send(item) {
    var form = new URLSearchParams();
    form.set("csrf", csrf);
    form.set("scanned_at", item.at);
    if (item.code) form.set("code", item.code);
    if (item.id) form.set("registration_id", item.id);
    return fetch(base, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
  }
  // A scan that could not be sent: the staff are told it is kept (once per scan), with what the phone knows of it.
  function kept() {
    var newest = queue[queue.length - 1];
    if (!newest || newest.told) {
      return;
    }
    newest.told = true;
    save();
    var entry = known(newest);
    if (entry && entry.checked_in_at) {
      show("again", say("already", { time: time(entry.checked_in_at) }), entry);
    } else {
      show("queued", say("queued", { time: time(newest.at) }), entry);
    }
  }
  function flush() {
    if (sending || queue.length === 0) {
      return;
    }
    sending = true;
    var item = queue[0];
    send(item)
      .then(function (response) {
        var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
        return (json ? response.json() : Promise.resolve(null)).then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(
        function (reply) {
          sending = false;
          if (reply.status === 401 || (reply.status === 403 && !reply.body)) {
            // The login ran out (or the page's form token did): kept until the staff log in again.
            connection(false, T.login_again);
            kept();
            return;
          }
          if (reply.status >= 500) {
            connection(false);
            kept();
            return;
          }
          connection(true);
          queue.shift();
          save();
          if (item.shown) {
            answered(item, reply.status, reply.body);
          }
          flush();
        },
        function () {
          sending = false;
          connection(false);
          kept();
        }
      );
  }

  function enqueue(item) {
    // The same person queued and not sent yet: said at once, not queued twice.
    for (var i = 0; i < queue.length; i++) {
      var q = queue[i];
      if ((item.code && q.code === item.code) || (item.id && q.id === item.id)) {
        show("again", say("already_queued", { time: time(q.at) }), known(q));
        return;
      }
    }
    item.at = new Date().toISOString();
    item.shown = true;
    queue.push(item);
    save();
    if (!online || !navigator.onLine) {
      kept();
    }
    flush();
  }

  // ---- the door list and search by name ----
  function fold(text) {
    return String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase();
  }
  function refresh() {
    fetch(base + "/list", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          connection(false, T.login_again);
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(
        function (body) {
          if (body && body.entries) {
            list = body.entries;
            try {
              localStorage.setItem(listKey, JSON.stringify(list));
            } catch (e) {
              // Kept in memory only.
            }
            search();
          }
        },
        function () {
          connection(false);
        }
      );
  }
  var field = $("search");
  function search() {
    var wanted = fold(field.value.trim());
    var matches = $("matches");
    matches.textContent = "";
    if (wanted.length < 2) {
      return;
    }
    var found = list.filter(function (entry) {
      return fold(entry.name).indexOf(wanted) >= 0 || fold(entry.affiliation).indexOf(wanted) >= 0;
    });
    if (found.length === 0) {
      var none = document.createElement("li");
      none.textContent = T.no_match;
      matches.appendChild(none);
      return;
    }
    found.slice(0, 20).forEach(function (entry) {
      var row = document.createElement("li");
      var label = document.createElement("span");
      label.textContent =
        (entry.name || "—") +
        (entry.affiliation ? " · " + entry.affiliation : "") +
        " — " +
        (T["status_" + entry.status] || entry.status) +
        (entry.checked_in_at ? " · " + say("already", { time: time(entry.checked_in_at) }) : "");
      row.appendChild(label);
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = T.check_in;
      button.setAttribute("data-check-in", entry.registration_id);
      button.addEventListener("click", function () {
        enqueue({ id: entry.registration_id });
      });
      row.appendChild(button);
      matches.appendChild(row);
    });
  }
  field.addEventListener("input", search);

  // ---- the camera ----
  var video = $("video");
  var canvas = $("canvas");
  var detector = null;
  if ("BarcodeDetector" in window) {
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (e) {
      detector = null;
    }
  }
  var last = { code: "", at: 0 };
  function scanned(code) {
    var now = Date.now();
    // The same code held in front of the camera is one scan; shown again after a pause, it is a second scan.
    if (code === last.code && now - last.at < 4000) {
      last.at = now;
      return;
    }
    last = { code: code, at: now };
    enqueue({ code: code });
  }
  function decode() {
    if (video.readyState < 2 || !video.videoWidth) {
      return Promise.resolve(null);
    }
    if (detector) {
      return detector.detect(video).then(
        function (codes) {
          return codes.length ? codes[0].rawValue : null;
        },
        function () {
          return null;
        }
      );
    }
    if (!window.jsQR) {
      return Promise.resolve(null);
    }
    var width = Math.min(video.videoWidth, 800);
    var height = Math.round((video.videoHeight * width) / video.videoWidth);
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    var found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, {
      inversionAttempts: "dontInvert",
    });
    return Promise.resolve(found ? found.data : null);
  }
  function watch() {
    decode().then(function (code) {
      if (code) {
        scanned(code.trim());
      }
      setTimeout(watch, 200);
    });
  }
  function camera() {
    var note = $("camera-note");
    var start = $("start-camera");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      note.hidden = false;
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        note.hidden = true;
        start.hidden = true;
        video.srcObject = stream;
        return video.play();
      })
      .then(watch, function () {
        note.hidden = false;
        start.hidden = false;
      });
  }
  $("start-camera").addEventListener("click", camera);

  window.addEventListener("online", function () {
    connection(true);
    flush();
    refresh();
  });
  window.addEventListener("offline", function () {
    connection(false);
  });
  setInterval(flush, 3000);
  setInterval(refresh, 30000);
  waiting();
  refresh();
  flush();
  camera();
})();
