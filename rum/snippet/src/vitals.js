// The web vitals collector shared by the RUM snippet and the probes bundle.
// It reports every metric in the units Sentinel uses everywhere: seconds for
// LCP, INP, FCP and TTFB, and the unitless layout shift score for CLS, each
// rounded to 0.1 ms (or 0.0001 for CLS).
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';

// selector names an element briefly (#id, or tag.class.class), at most 100
// characters, so the LCP element can be reported without the heavier
// attribution build.
function selector(el) {
  if (!el || el.nodeType !== 1) return '';
  var s = el.id ? '#' + el.id : el.nodeName.toLowerCase() + (el.classList.length ? '.' + [].slice.call(el.classList).join('.') : '');
  return s.slice(0, 100);
}

// vitals calls report(name, value, target) for lcp, inp, cls, fcp and ttfb.
// With all set it reports every change (for probes, which read the values
// while the page is still visible); otherwise only final values.
export function vitals(report, all) {
  var o = { reportAllChanges: !!all };
  function cb(m) {
    var name = m.name.toLowerCase();
    var v = name === 'cls' ? m.value : m.value / 1000;
    var target = '';
    if (name === 'lcp') {
      var e = m.entries[m.entries.length - 1];
      target = selector(e && e.element);
    }
    report(name, Math.round(v * 1e4) / 1e4, target);
  }
  onLCP(cb, o);
  onINP(cb, o);
  onCLS(cb, o);
  onFCP(cb, o);
  onTTFB(cb, o);
}
