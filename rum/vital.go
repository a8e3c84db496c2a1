package rum

// Vital is one of the five web vitals; the order (lcp, inp, cls, fcp,
// ttfb) is the order of every per-vital array in this package.
type Vital int

// The five web vitals.
const (
	LCP Vital = iota
	INP
	CLS
	FCP
	TTFB
	numVitals = 5
)

// Vitals lists the five web vitals in order.
func Vitals() []Vital { return []Vital{LCP, INP, CLS, FCP, TTFB} }

// vitalNames are the names used in beacons, outcomes and metric names.
var vitalNames = [numVitals]string{"lcp", "inp", "cls", "fcp", "ttfb"}

// vitalLimits are web-vitals' own thresholds (the web-vitals npm package,
// 6.2.x): good up to the first value, poor above the second; seconds,
// except CLS which is a unitless score.
var vitalLimits = [numVitals][2]float64{
	{2.5, 4},    // LCP: 2500 ms, 4000 ms
	{0.2, 0.5},  // INP: 200 ms, 500 ms
	{0.1, 0.25}, // CLS
	{1.8, 3},    // FCP: 1800 ms, 3000 ms
	{0.8, 1.8},  // TTFB: 800 ms, 1800 ms
}

// Name is the vital's name in beacons and metrics: lcp, inp, cls, fcp or
// ttfb.
func (v Vital) Name() string { return vitalNames[v] }

// Limits returns web-vitals' thresholds: a value up to good is good, above
// poor is poor, and needs improvement in between.
func (v Vital) Limits() (good, poor float64) { return vitalLimits[v][0], vitalLimits[v][1] }

// Timing reports whether the vital is a duration in seconds (all but CLS).
func (v Vital) Timing() bool { return v != CLS }

// VitalNamed returns the vital with a beacon name.
func VitalNamed(name string) (Vital, bool) {
	for i, n := range vitalNames {
		if n == name {
			return Vital(i), true
		}
	}
	return 0, false
}

// vitalIndex returns the position of a vital name in vitalNames, or -1.
func vitalIndex(name string) int {
	if v, ok := VitalNamed(name); ok {
		return int(v)
	}
	return -1
}

// Ratings, as web-vitals names them.
const (
	RatingGood             = "good"
	RatingNeedsImprovement = "needs-improvement"
	RatingPoor             = "poor"
)

// zone is where a value falls against a vital's limits: 0 good, 1 needs
// improvement, 2 poor.
func (v Vital) zone(x float64) int8 {
	good, poor := v.Limits()
	switch {
	case x <= good:
		return 0
	case x <= poor:
		return 1
	}
	return 2
}

// Rate classifies one measured value as web-vitals does.
func (v Vital) Rate(x float64) string { return zoneRatings[v.zone(x)] }

var zoneRatings = [3]string{RatingGood, RatingNeedsImprovement, RatingPoor}
