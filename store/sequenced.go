package store

import "context"

// putSequenced stores doc in bucket under a key made from the bucket's next
// sequence number, which setID first records in doc: append-only logs
// (audit entries, change markers) get increasing IDs this way.
func putSequenced[T any](ctx context.Context, e Engine, bucket string, version byte, doc *T, setID func(*T, uint64), key func(*T) []byte) error {
	return e.Update(ctx, func(tx Tx) error {
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		id, err := b.NextSequence()
		if err != nil {
			return err
		}
		setID(doc, id)
		v, err := EncodeJSON(version, *doc)
		if err != nil {
			return err
		}
		return b.Put(key(doc), v)
	})
}

// deleteMatching deletes, in one transaction, the entries of bucket that
// visit marks, scanning in key order until visit says to stop or max are
// marked (0: no limit), so that one transaction stays small; it returns
// how many went.
func deleteMatching(ctx context.Context, e Engine, bucket string, max int, visit func(k, v []byte) (del, more bool, err error)) (int, error) {
	n := 0
	err := e.Update(ctx, func(tx Tx) error {
		n = 0
		b, err := tx.Bucket(bucket)
		if err != nil {
			return err
		}
		var old [][]byte
		err = b.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			del, more, err := visit(k, v)
			if del {
				old = append(old, clone(k))
			}
			return more && (max == 0 || len(old) < max), err
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
