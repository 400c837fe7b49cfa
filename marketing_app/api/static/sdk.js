/* Marketing platform browser SDK: init, identify, track, page.
 * Keeps an anonymous id in a first-party cookie, captures UTM parameters, batches events
 * and retries with backoff. Sends Segment-shaped messages to POST /v1/batch. */
(function (window, document) {
  "use strict";
  var COOKIE = "mk_anon", FLUSH_MS = 2000, MAX_QUEUE = 20, MAX_ATTEMPTS = 5;
  var state = { writeKey: null, host: "", queue: [], userId: null, timer: null, sending: false };

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }
  function readCookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }
  function anonymousId() {
    var id = readCookie(COOKIE);
    if (!id) {
      id = uuid();
      document.cookie = COOKIE + "=" + id + "; max-age=31536000; path=/; samesite=lax";
    }
    return id;
  }
  function campaign() {
    var params = new URLSearchParams(window.location.search), found = {};
    ["source", "medium", "campaign", "term", "content"].forEach(function (key) {
      var value = params.get("utm_" + key);
      if (value) found[key === "campaign" ? "name" : key] = value;
    });
    return found;
  }
  function context() {
    return {
      library: { name: "marketing-sdk.js", version: "1.0" },
      page: { url: window.location.href, path: window.location.pathname,
              referrer: document.referrer, title: document.title },
      campaign: campaign(), userAgent: navigator.userAgent,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone
    };
  }
  function enqueue(message) {
    message.messageId = uuid();
    message.timestamp = new Date().toISOString();
    message.anonymousId = anonymousId();
    if (state.userId) message.userId = state.userId;
    message.context = context();
    state.queue.push(message);
    if (state.queue.length >= MAX_QUEUE) flush();
    else if (!state.timer) state.timer = setTimeout(flush, FLUSH_MS);
  }
  function send(batch, attempt) {
    var body = JSON.stringify({ batch: batch, writeKey: state.writeKey });
    return fetch(state.host + "/v1/batch", {
      method: "POST", body: body, keepalive: true,
      headers: { "Content-Type": "application/json" }
    }).then(function (response) {
      // 4xx other than 429 will not get better by retrying: drop the batch.
      if (response.status === 429 || response.status >= 500) throw new Error("retry");
    }).catch(function () {
      if (attempt + 1 >= MAX_ATTEMPTS) return;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
      return new Promise(function (resolve) { setTimeout(resolve, delay); })
        .then(function () { return send(batch, attempt + 1); });
    });
  }
  function flush() {
    clearTimeout(state.timer);
    state.timer = null;
    if (!state.queue.length || !state.writeKey) return Promise.resolve();
    var batch = state.queue.splice(0, state.queue.length);
    return send(batch, 0);
  }
  var api = {
    init: function (writeKey, options) {
      state.writeKey = writeKey;
      state.host = (options && options.host) || "";
      window.addEventListener("pagehide", flush);
      return api;
    },
    identify: function (userId, traits) {
      if (userId) state.userId = String(userId);
      enqueue({ type: "identify", traits: traits || {} });
    },
    track: function (event, properties) {
      enqueue({ type: "track", event: event, properties: properties || {} });
    },
    page: function (name, properties) {
      enqueue({ type: "page", name: name || document.title, properties: properties || {} });
    },
    flush: flush,
    anonymousId: anonymousId
  };
  var queued = window.mk && window.mk.q ? window.mk.q : [];
  window.mk = api;
  queued.forEach(function (call) { api[call[0]].apply(api, call[1]); });
})(window, document);
