package rum

import _ "embed"

// The bundles built by snippet/build.mjs and committed, so `go build` needs
// no npm. Strings, so nothing can change them.
var (
	//go:embed dist/rum.min.js
	snippetJS string
	//go:embed dist/vitals.min.js
	vitalsJS string
)

// Snippet returns the RUM snippet as built, without the server settings that
// GET /rum.js prepends.
func Snippet() []byte { return []byte(snippetJS) }

// VitalsScript returns the vitals-only bundle that browser probes inject into
// the pages they drive: it sends nothing and keeps the latest LCP, INP, CLS,
// FCP and TTFB on window.__sentinelVitals (seconds; CLS unitless), the units
// RUM reports in.
func VitalsScript() []byte { return []byte(vitalsJS) }
