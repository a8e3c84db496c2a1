// The vitals-only bundle that browser probes inject into the pages they
// drive. It sends nothing: it keeps the latest value of each metric on
// window.__sentinelVitals (seconds; CLS unitless), plus lcp_target.
import { vitals } from './vitals.js';

var store = (window.__sentinelVitals = window.__sentinelVitals || {});
vitals(function (name, value, target) {
  store[name] = value;
  if (target) store.lcp_target = target;
}, true);
