/* Attune browser tracker: consent-aware, Segment-style, batched.
 *
 *   <script src="https://attune.example/tracker.js"></script>
 *   <script>
 *     Attune.init({endpoint: "https://attune.example", writeKey: "atn_...ingest key...",
 *                  moment: "checkout", onDecision: function (d) { applyJourney(d); }});
 *     // consent banner buttons: Attune.consent.grant(["behaviour"]) / Attune.consent.revoke([...])
 *   </script>
 *
 * Sends page views, clicks (selector and position), scroll direction changes, field edits and
 * validation errors (never field values), section views ([data-attune-section]), hovers over
 * price/terms elements, client errors and "standard_view" when the customer asks for it.
 * The ingest key is public: Attune answers a new visitor with a session token, which the tracker
 * keeps (localStorage, beside the anonymous id) and sends as X-Attune-Session-Token; without it
 * Attune refuses events and consent changes for a visitor it already knows. For a signed-in
 * user on a new device, the site's back end mints one (POST /v1/session-tokens, server key)
 * and passes it: Attune.init({userId: ..., sessionToken: ...}).
 * Nothing is sent before consent for behaviour when the deployment requires consent
 * (requireConsent: true), and nothing at all after a revocation.
 */
(function (window, document) {
  "use strict";
  var cfg = null, queue = [], seq = 0, timer = null, lastScrollY = 0, lastDir = null;
  var storage = window.localStorage || {getItem: function () {}, setItem: function () {}};

  function id(prefix) {
    return prefix + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }
  function anonymousId() {
    var a = storage.getItem("attune.aid");
    if (!a) { a = id("a-"); storage.setItem("attune.aid", a); }
    return a;
  }
  function sessionId() {
    var s = window.sessionStorage && window.sessionStorage.getItem("attune.sid");
    if (!s) { s = id("s-"); if (window.sessionStorage) window.sessionStorage.setItem("attune.sid", s); }
    return s;
  }
  function allowed() {
    var state = storage.getItem("attune.consent.behaviour");
    if (state === "revoked") return false;
    return cfg && (!cfg.requireConsent || state === "granted");
  }
  function selector(el) {
    if (!el || !el.tagName) return "?";
    if (el.id) return "#" + el.id;
    var s = el.tagName.toLowerCase();
    if (el.getAttribute && el.getAttribute("data-attune")) return s + "[data-attune=" + el.getAttribute("data-attune") + "]";
    if (el.className && typeof el.className === "string") s += "." + el.className.trim().split(/\s+/).slice(0, 2).join(".");
    return s;
  }
  function tokenKey() { return "attune.token." + (cfg.userId ? "u" : "a"); }
  function headers() {
    var h = {"Content-Type": "application/json", "Authorization": "Basic " + btoa(cfg.writeKey + ":")};
    var t = storage.getItem(tokenKey());
    if (t) h["X-Attune-Session-Token"] = t;
    return h;
  }
  function keepToken(body) {
    var t = body && (body.sessionToken || (body.sessionTokens && body.sessionTokens[sessionId()]));
    if (t) storage.setItem(tokenKey(), t);
    return body;
  }
  function base(type) {
    seq += 1;
    return {type: type, messageId: sessionId() + "-" + seq + "-" + Math.random().toString(36).slice(2, 6),
            anonymousId: anonymousId(), userId: cfg.userId || undefined, sessionId: sessionId(),
            timestamp: new Date().toISOString(),
            context: {moment: cfg.moment, channel: "web", locale: navigator.language,
                      page: {path: location.pathname}}};
  }
  function push(ev) {
    if (!allowed()) return;
    queue.push(ev);
    if (queue.length >= 20) flush(); else if (!timer) timer = setTimeout(flush, cfg.flushMs);
  }
  function flush() {
    clearTimeout(timer); timer = null;
    if (!queue.length || !allowed()) { queue = []; return; }
    var batch = queue; queue = [];
    fetch(cfg.endpoint + "/v1/batch", {method: "POST", headers: headers(), keepalive: true,
                                       body: JSON.stringify({batch: batch})})
      .then(function (r) {
        if (r.status === 429 || r.status === 503) { retryLater(batch, r.headers.get("Retry-After")); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (body) {
        keepToken(body);
        var d = body && body.decisions && body.decisions[sessionId()];
        if (d && cfg.onDecision) cfg.onDecision(d);
      })["catch"](function () { /* the journey never depends on Attune answering */ });
  }
  function retryLater(batch, after) {
    // Slowed down: keep the batch (ids make a resend harmless) and send it again later; the
    // queue stays bounded, the oldest events give way first on a very busy page.
    queue = batch.concat(queue).slice(-500);
    clearTimeout(timer);
    timer = setTimeout(flush, Math.min(60, Math.max(1, parseFloat(after) || 1)) * 1000);
  }
  function track(name, props) { var e = base("track"); e.event = name; e.properties = props || {}; push(e); }
  function page() { var e = base("page"); e.properties = {path: location.pathname, title: document.title}; push(e); }

  function listen() {
    document.addEventListener("click", function (e) {
      track("click", {selector: selector(e.target), x: Math.round(e.clientX), y: Math.round(e.clientY)});
    }, true);
    window.addEventListener("scroll", function () {
      var y = window.scrollY, dir = y > lastScrollY ? "down" : "up";
      if (Math.abs(y - lastScrollY) > 40 && dir !== lastDir) { track("scroll", {direction: dir}); lastDir = dir; }
      lastScrollY = y;
    }, {passive: true});
    document.addEventListener("change", function (e) {
      if (e.target && e.target.name) track("field_edit", {field: e.target.name});
    }, true);
    document.addEventListener("invalid", function (e) {
      if (e.target && e.target.name) track("validation_error", {field: e.target.name});
    }, true);
    window.addEventListener("error", function (e) { track("client_error", {message: String(e.message).slice(0, 80)}); });
    var hoverStart = {};
    document.addEventListener("mouseover", function (e) {
      var t = e.target && e.target.closest && e.target.closest("[data-attune-price]");
      if (t) hoverStart[selector(t)] = Date.now();
    });
    document.addEventListener("mouseout", function (e) {
      var t = e.target && e.target.closest && e.target.closest("[data-attune-price]");
      if (!t) return;
      var s = selector(t), ms = Date.now() - (hoverStart[s] || Date.now());
      if (ms > 500) track("hover", {selector: s, price: true, duration_ms: ms});
    });
    if (window.IntersectionObserver) {
      var io = new IntersectionObserver(function (entries) {
        entries.forEach(function (en) {
          if (en.isIntersecting) track("section_view", {section: en.target.getAttribute("data-attune-section")});
        });
      }, {threshold: 0.6});
      document.querySelectorAll("[data-attune-section]").forEach(function (el) { io.observe(el); });
    }
    window.addEventListener("pagehide", flush);
  }

  function consentCall(action, modalities) {
    (modalities || ["behaviour"]).forEach(function (m) {
      storage.setItem("attune.consent." + m, action === "grant" ? "granted" : "revoked");
    });
    if (action === "revoke") queue = [];
    return fetch(cfg.endpoint + "/v1/consent/" + action, {method: "POST", headers: headers(),
      body: JSON.stringify({anonymousId: anonymousId(), userId: cfg.userId || undefined,
                            modalities: modalities || ["behaviour"], source: "tracker",
                            textVersion: cfg.consentTextVersion})})
      .then(function (r) {
        if (r.ok) r.clone().json().then(keepToken)["catch"](function () {});
        return r;
      });
  }

  window.Attune = {
    init: function (options) {
      cfg = {endpoint: "", flushMs: 1000, requireConsent: false};
      for (var k in options) cfg[k] = options[k];
      if (cfg.sessionToken) storage.setItem(tokenKey(), cfg.sessionToken);
      listen();
      page();
    },
    track: track,
    page: page,
    flush: flush,
    standardView: function () { track("standard_view", {}); flush(); },
    consent: {
      grant: function (m) { return consentCall("grant", m); },
      revoke: function (m) { return consentCall("revoke", m); }
    }
  };
})(window, document);
