// Builds the two bundles into ../dist. esbuild output is deterministic, so
// `npm ci && npm run build` reproduces the committed files byte for byte
// (check-built.sh verifies that in CI).
import { build } from 'esbuild';

// OUT_DIR lets check-built.sh build elsewhere and compare.
const out = process.env.OUT_DIR || '../dist';

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  // web-vitals 6 itself calls Array.prototype.at (ES2022), so the bundle
  // never ran where ES2022 syntax does not; lowering its class fields for
  // es2020 only cost bytes.
  target: ['es2022'],
  legalComments: 'none',
  banner: { js: '/*! Sentinel RUM; includes web-vitals (Apache-2.0) */' },
  charset: 'utf8',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/rum.js'], outfile: `${out}/rum.min.js` });
await build({ ...common, entryPoints: ['src/probe.js'], outfile: `${out}/vitals.min.js` });
