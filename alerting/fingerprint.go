package alerting

import (
	"hash/fnv"
	"strconv"

	"github.com/sentinel-oss/sentinel/model"
)

// Fingerprint is the stable identity of a label set: 16 hex digits of an
// FNV-1a hash over the sorted pairs, so equal sets give equal prints.
func Fingerprint(l model.Labels) string {
	h := fnv.New64a()
	for _, k := range l.Keys() {
		_, _ = h.Write([]byte(k))
		_, _ = h.Write([]byte{0xff})
		_, _ = h.Write([]byte(l[k]))
		_, _ = h.Write([]byte{0xfe})
	}
	s := strconv.FormatUint(h.Sum64(), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

// GroupKey is the key alerts with these labels are grouped under: the
// group_by label values as `service=checkout`, or `alertname=NAME` when
// the alert carries none of the group_by labels.
func GroupKey(groupBy []string, l model.Labels) string {
	for _, n := range groupBy {
		if l[n] != "" {
			return l.Subset(groupBy)
		}
	}
	return "alertname=" + l["alertname"]
}

// groupLabels returns the group_by pairs of l (those present).
func groupLabels(groupBy []string, l model.Labels) model.Labels {
	out := model.Labels{}
	for _, n := range groupBy {
		if v, ok := l[n]; ok && v != "" {
			out[n] = v
		}
	}
	if len(out) == 0 {
		out["alertname"] = l["alertname"]
	}
	return out
}
