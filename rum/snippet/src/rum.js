// Sentinel's real-user monitoring snippet. It measures the five web vitals,
// page views (including SPA route changes), JS errors and unhandled
// rejections, and sends them in batches to Sentinel's beacon endpoint in the
// schema of docs/rum-beacon.md. No cookies: the session ID lives in
// sessionStorage. Nothing is stored or sent while consent is held.
//
// Settings come from window.__sentinelRUMConfig (which GET /rum.js prepends)
// and are overridden by data- attributes on the script tag: data-endpoint,
// data-site, data-sample-rate, data-consent="pending".
import { vitals } from './vitals.js';

var w = window;
var api = (w.sentinelRUM = w.sentinelRUM || {});
if (!api.grant) start(api);

function start(api) {
  var d = document;
  var loc = location;
  var script = d.currentScript;
  var cfg = w.__sentinelRUMConfig || {};
  var attr = function (k) {
    var v = script && script.getAttribute('data-' + k);
    return v == null || v === '' ? undefined : v;
  };
  var endpoint = attr('endpoint') || cfg.endpoint;
  var site = attr('site') || cfg.site || '';
  var rate = +(attr('sample-rate') ?? cfg.sampleRate ?? 1);
  var params = cfg.queryParams || [];
  var held = api.consent === false || attr('consent') === 'pending';
  var KEY = 'sentinel_rum';
  var queue = [];
  var seen = {};
  var errs = 0;
  var sess, view, timer;
  var path = loc.pathname;
  if (!(rate >= 0 && rate <= 1)) rate = 1;
  if (!endpoint) return;

  // rid is a random session ID: three random 32-bit numbers joined by '_'
  // (the beacon schema allows letters, digits, '-' and '_').
  function rid() {
    return crypto.getRandomValues(new Uint32Array(3)).join('_');
  }

  // session returns the stored session, starting a new one after 15 minutes
  // idle or 4 hours in all. Sampling is decided once per session.
  function session() {
    var now = Date.now();
    if (!sess) {
      try {
        sess = JSON.parse(sessionStorage.getItem(KEY));
      } catch (e) {}
    }
    if (!sess || now - sess.l > 9e5 || now - sess.s > 1.44e7) {
      sess = { i: rid(), s: now, r: rate, k: Math.random() < rate };
    }
    sess.l = now;
    try {
      sessionStorage.setItem(KEY, JSON.stringify(sess));
    } catch (e) {}
    return sess;
  }

  // clean drops the fragment and every query parameter not allow-listed.
  function clean(u) {
    try {
      u = new URL(u);
      var q = new URLSearchParams();
      u.searchParams.forEach((v, k) => {
        if (params.indexOf(k) >= 0) q.append(k, v);
      });
      u.search = q;
      u.hash = '';
      return u.href.slice(0, 1000);
    } catch (e) {
      return '';
    }
  }

  function push(ev) {
    if (queue.length < 100) queue.push(ev);
    if (queue.length >= 30) flush();
    else if (!timer) timer = setTimeout(flush, 1e4);
  }

  // flush sends the queue in beacons of under 60,000 bytes each.
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (held || !queue.length) return;
    var s = session();
    var q = queue;
    queue = [];
    if (!s.k) return;
    var head = '{"v":1,"site":' + JSON.stringify(site) + ',"session":"' + s.i + '","sample_rate":' + s.r + ',"events":[';
    var body = head;
    var size = head.length + 2;
    var n = 0;
    for (var i = 0; i < q.length; i++) {
      var e = JSON.stringify(q[i]);
      var l = new Blob([e]).size + 1; // UTF-8 bytes
      if (n && size + l > 6e4) {
        send(body + ']}');
        body = head;
        size = head.length + 2;
        n = 0;
      }
      body += (n++ ? ',' : '') + e;
      size += l;
    }
    send(body + ']}');
  }

  function send(b) {
    var beacon = () => navigator.sendBeacon && navigator.sendBeacon(endpoint, b);
    try {
      fetch(endpoint, { method: 'POST', body: b, keepalive: true, credentials: 'omit' }).catch(beacon);
    } catch (e) {
      beacon();
    }
  }

  function startView(nav) {
    view = { u: clean(loc.href), n: nav, e: 0 };
  }

  function endView() {
    if (view && !view.d) {
      view.d = 1;
      push({ type: 'page_view', url: view.u, nav: view.n, errors: view.e });
    }
  }

  function hide() {
    endView();
    flush();
  }

  // error records one JS error, folding repeats of the same error into the
  // queued event's count; at most 100 distinct reports per page.
  function error(kind, err, msg) {
    var stack = String((err && err.stack) || '').slice(0, 4000);
    msg = String(msg || (err && err.message) || err).slice(0, 500);
    var key = kind + msg + stack.slice(0, 300);
    var ev = seen[key];
    if (view) view.e++;
    if (ev && queue.indexOf(ev) >= 0) return ev.count++;
    if (errs++ < 100) {
      push((seen[key] = { type: 'error', url: clean(loc.href), kind: kind, message: msg, stack: stack, count: 1 }));
    }
  }

  function onRoute() {
    if (loc.pathname !== path) {
      path = loc.pathname;
      endView();
      startView('route');
    }
  }

  startView('load');
  var loadURL = view.u;
  // Beacons carry timings in seconds, at most 60 (more is refused as
  // milliseconds): a longer one is sent as 60, still a poor value.
  vitals((name, value, target) => {
    var ev = { type: 'vital', url: loadURL, name: name, value: name != 'cls' && value > 60 ? 60 : value };
    if (target) ev.target = target;
    push(ev);
  });
  w.addEventListener('error', (e) => {
    if (e.error || e.message) error('error', e.error, e.message);
  });
  w.addEventListener('unhandledrejection', (e) => {
    error('rejection', e.reason);
  });
  ['pushState', 'replaceState'].forEach((m) => {
    var f = history[m];
    history[m] = function () {
      var r = f.apply(this, arguments);
      onRoute();
      return r;
    };
  });
  w.addEventListener('popstate', onRoute);
  w.addEventListener('pageshow', (e) => {
    if (e.persisted) startView('bfcache');
  });
  d.addEventListener('visibilitychange', () => {
    if (d.visibilityState === 'hidden') hide();
  });
  w.addEventListener('pagehide', hide);

  api.consent = !held;
  // grant lets the snippet store its session and send what it has measured.
  api.grant = () => {
    api.consent = true;
    held = false;
    flush();
  };
  // revoke stops sending, drops what is queued and forgets the session.
  api.revoke = () => {
    held = true;
    api.consent = false;
    queue = [];
    sess = 0;
    try {
      sessionStorage.removeItem(KEY);
    } catch (e) {}
  };
  api.flush = hide;
}
