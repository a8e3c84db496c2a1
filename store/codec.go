package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// EncodeJSON returns v as JSON behind a one-byte format version, the layout
// every domain value is stored in, so that a later Sentinel can tell old
// shapes from new ones. version must be at least 1.
func EncodeJSON(version byte, v any) ([]byte, error) {
	if version == 0 {
		return nil, errors.New("store: encode value: version must be at least 1")
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode value: %w", err)
	}
	out := make([]byte, 0, len(body)+1)
	out = append(out, version)
	return append(out, body...), nil
}

// DecodeJSON reads a value written by EncodeJSON into v and returns its
// version. A version above maxVersion (written by a newer Sentinel) is
// refused with an error wrapping ErrNewerSchema rather than half-read.
func DecodeJSON(b []byte, maxVersion byte, v any) (version byte, err error) {
	version, body, err := SplitVersion(b, maxVersion)
	if err != nil {
		return version, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return version, fmt.Errorf("store: decode value (version %d): %w", version, err)
	}
	return version, nil
}

// SplitVersion returns the version byte and the body of a stored value, for
// callers that decode older versions into a different shape. It refuses
// empty values, version 0 and versions above maxVersion.
func SplitVersion(b []byte, maxVersion byte) (version byte, body []byte, err error) {
	if len(b) == 0 {
		return 0, nil, errors.New("store: decode value: empty value")
	}
	version = b[0]
	if version == 0 {
		return 0, nil, errors.New("store: decode value: version 0 is not a valid value version")
	}
	if version > maxVersion {
		return version, nil, fmt.Errorf("%w: value version %d is newer than this sentinel understands (%d); upgrade sentinel or restore a backup",
			ErrNewerSchema, version, maxVersion)
	}
	return version, b[1:], nil
}
