// Package dashboards builds Sentinel's web pages and its Grafana boards: view
// models assembled from the domain services through small interfaces declared
// here, html/template pages and a stylesheet embedded in the binary, charts
// drawn as inline SVG on the server (so the pages need no script, no CDN and
// no network beyond Sentinel itself), and the Grafana dashboard JSON that
// `sentinel dashboards export` writes for Prometheus-backed setups.
//
// The package knows nothing about HTTP routing or sessions: web mounts the
// pages, authenticates the person and hands each page a Viewer.
package dashboards
