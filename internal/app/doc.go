// Package app is Sentinel's composition root: the only package that sees
// the whole config. It builds every component from its own section, wires
// them through the small interfaces they declare, runs them under one
// errgroup, reloads them, and shuts them down in order (HTTP first, the
// store last).
package app
