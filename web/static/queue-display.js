// The hall display: polls the display JSON every few seconds and updates the page in place.
// A number newly called (or called again) to a counter is announced through the aria-live region.
(function () {
  "use strict";
  var root = document.getElementById("display");
  if (!root) { return; }
  var endpoint = root.getAttribute("data-endpoint");
  var counterLabel = root.getAttribute("data-counter-label") || "Loket";
  var english = root.getAttribute("data-lang") === "en";
  var announce = document.getElementById("display-announce");
  var clock = document.getElementById("display-clock");
  var seen = null;  // counter code -> "number#calls" of the last poll
  var EVERY_MS = 4000;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function renderCounters(counters) {
    var list = document.getElementById("display-counters");
    var fresh = [];
    var items = counters.map(function (c) {
      var li = el("li", "display-counter" + (c.number ? " busy" : ""));
      li.setAttribute("data-code", c.code);
      li.appendChild(el("span", "display-code", counterLabel + " " + c.code));
      li.appendChild(el("span", "display-number", c.number || "\u2013"));
      li.appendChild(el("span", "display-name", c.name));
      var key = c.number ? c.number + "#" + c.calls : "";
      if (seen !== null && key && seen[c.code] !== key) {
        li.className += " fresh";
        fresh.push(c);
      }
      return li;
    });
    list.replaceChildren.apply(list, items);
    return fresh;
  }

  function renderRecent(recent) {
    var list = document.getElementById("display-recent");
    list.replaceChildren.apply(list, recent.map(function (r) {
      var li = el("li");
      li.appendChild(el("span", "recent-number", r.number));
      li.appendChild(document.createTextNode(" \u2192 " + counterLabel + " " + r.counter_code));
      return li;
    }));
  }

  function renderWaiting(waiting) {
    var body = document.getElementById("display-waiting");
    body.replaceChildren.apply(body, waiting.map(function (w) {
      var tr = el("tr");
      tr.setAttribute("data-agency", w.agency);
      var name = el("td");
      name.appendChild(el("b", "", w.prefix));
      name.appendChild(document.createTextNode(" " + (english ? w.name_en : w.name_id)));
      tr.appendChild(name);
      tr.appendChild(el("td", "num", String(w.count)));
      return tr;
    }));
  }

  function tick() {
    if (clock) {
      clock.textContent = new Date().toLocaleTimeString(english ? "en-GB" : "id-ID",
        { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Jakarta" });
    }
  }

  function poll() {
    fetch(endpoint, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var fresh = renderCounters(data.counters);
        renderRecent(data.recent);
        renderWaiting(data.waiting);
        var next = {};
        data.counters.forEach(function (c) { next[c.code] = c.number ? c.number + "#" + c.calls : ""; });
        seen = next;
        if (fresh.length && announce) {
          announce.textContent = fresh.map(function (c) {
            return (english ? "Number " : "Nomor ") + c.number + ", " + counterLabel + " " + c.code;
          }).join(". ");
        }
      })
      .catch(function () { /* keep showing the last figures; the next poll tries again */ })
      .then(function () { window.setTimeout(poll, EVERY_MS); });
  }

  tick();
  window.setInterval(tick, 15000);
  poll();
}());
