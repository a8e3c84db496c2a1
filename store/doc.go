// Package store keeps Sentinel's durable state: incidents, silences, SLO
// counters and everything else that must survive a restart.
//
// Its job is to hide the storage engine behind a small transactional
// interface (Engine, Tx, Bucket) of named buckets holding ordered byte keys,
// so that the domain stores written on top of it run unchanged on the
// embedded bbolt file (Bolt), on memory in tests (Memory), and later on a
// networked database. Nothing from bbolt leaves this package: callers see
// only Engine, Tx, Bucket, byte slices and this package's errors.
//
// The package also owns what belongs to the file as a whole: opening it with
// a lock timeout (a second process gets ErrInUse, not a hang), the schema
// version and its migrations (a newer file is refused with ErrNewerSchema),
// consistent online backups, and the helpers that give stored values a
// version byte (EncodeJSON, DecodeJSON) and keys a sortable layout (Key,
// Uint64Key, TimeKey).
//
// Every engine passes the conformance suite in store/storetest.
package store
