package rum

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sentinel-oss/sentinel/config"
)

func TestDecodeBeaconValid(t *testing.T) {
	b, err := DecodeBeacon([]byte(validBeacon))
	if err != nil {
		t.Fatalf("DecodeBeacon: %v", err)
	}
	if b.V != 1 || b.Site != "shop" || b.SampleRate != 1 || len(b.Events) != 7 {
		t.Fatalf("decoded %+v", b)
	}
	if e := b.Events[5]; e.Type != EventError || e.Count != 2 || e.Kind != "error" {
		t.Errorf("error event %+v", e)
	}
	// Defaults.
	b, err = DecodeBeacon(beaconWith(`{"type":"page_view","url":"/"}`, `{"type":"error","message":"boom"}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.SampleRate != 1 || b.Events[0].Nav != "load" || b.Events[1].Count != 1 || b.Events[1].Kind != "error" {
		t.Errorf("defaults not applied: %+v", b)
	}
}

func TestDecodeBeaconInvalid(t *testing.T) {
	long := strings.Repeat("a", MaxMessageLen+1)
	many := make([]string, MaxEvents+1)
	for i := range many {
		many[i] = `{"type":"page_view","url":"/"}`
	}
	cases := []struct {
		name, body, want string
	}{
		{"empty", ``, "empty body"},
		{"not json", `hello`, "malformed JSON"},
		{"truncated", `{"v":1,"events":[`, "truncated"},
		{"array", `[1,2]`, "expected a JSON object"},
		{"trailing", `{"v":1,"session":"abcdefgh","events":[{"type":"page_view"}]} {}`, "unexpected data after"},
		{"no version", `{"session":"abcdefgh","events":[{"type":"page_view"}]}`, "v: missing schema version"},
		{"future version", `{"v":2,"session":"abcdefgh","events":[{"type":"page_view"}]}`, "v: unsupported schema version 2"},
		{"unknown top field", `{"v":1,"session":"abcdefgh","user":"bob","events":[]}`, `unknown field "user"`},
		{"unknown event field", string(beaconWith(`{"type":"page_view"}`, `{"type":"vital","name":"lcp","value":1,"email":"x"}`)), `events[1]: unknown field "email"`},
		{"wrong type", `{"v":1,"session":"abcdefgh","sample_rate":"1","events":[]}`, "sample_rate: expected a number"},
		{"bad session", `{"v":1,"session":"a b","events":[{"type":"page_view"}]}`, "session:"},
		{"short session", `{"v":1,"session":"abc","events":[{"type":"page_view"}]}`, "session:"},
		{"sample rate zero", `{"v":1,"session":"abcdefgh","sample_rate":0,"events":[{"type":"page_view"}]}`, "sample_rate: must be between"},
		{"sample rate big", `{"v":1,"session":"abcdefgh","sample_rate":2,"events":[{"type":"page_view"}]}`, "sample_rate"},
		{"bad device", `{"v":1,"session":"abcdefgh","device":"fridge","events":[{"type":"page_view"}]}`, `device: unknown device "fridge"`},
		{"no events", `{"v":1,"session":"abcdefgh","events":[]}`, "events: missing or empty"},
		{"too many events", string(beaconWith(many...)), "at most 200"},
		{"no type", string(beaconWith(`{"url":"/"}`)), "events[0].type: missing"},
		{"bad type", string(beaconWith(`{"type":"click"}`)), `events[0].type: unknown event type "click"`},
		{"bad vital", string(beaconWith(`{"type":"vital","name":"fid","value":1}`)), `events[0].name: unknown vital "fid"`},
		{"negative vital", string(beaconWith(`{"type":"vital","name":"lcp","value":-1}`)), "events[0].value: lcp must be 0 or more seconds, got -1"},
		{"lcp in milliseconds", string(beaconWith(`{"type":"vital","name":"lcp","value":2500}`)), "events[0].value: lcp of 2500 looks like milliseconds; beacons carry seconds (at most 60)"},
		{"inp in milliseconds, third event", string(beaconWith(`{"type":"page_view"}`, `{"type":"vital","name":"lcp","value":2.5}`, `{"type":"vital","name":"inp","value":200}`)), "events[2].value: inp of 200 looks like milliseconds; beacons carry seconds"},
		{"just over a minute", string(beaconWith(`{"type":"vital","name":"ttfb","value":60.001}`)), "events[0].value: ttfb of 60.001 looks like milliseconds"},
		{"huge cls", string(beaconWith(`{"type":"vital","name":"cls","value":1000}`)), "events[0].value: cls must be between 0 and 100"},
		{"target on inp", string(beaconWith(`{"type":"vital","name":"inp","value":1,"target":"a"}`)), "target: only lcp"},
		{"foreign field", string(beaconWith(`{"type":"page_view","message":"hi"}`)), "events[0].message: not a field of a page_view event"},
		{"foreign on vital", string(beaconWith(`{"type":"vital","name":"lcp","value":1,"count":3}`)), "events[0].count: not a field of a vital"},
		{"foreign on error", string(beaconWith(`{"type":"error","message":"x","value":3}`)), "events[0].value: not a field of a error"},
		{"long message", string(beaconWith(`{"type":"error","message":"` + long + `"}`)), "events[0].message: longer than 2048"},
		{"bad url", string(beaconWith(`{"type":"page_view","url":"javascript:alert(1)"}`)), "events[0].url: must be an http(s) URL"},
		{"bad nav", string(beaconWith(`{"type":"page_view","nav":"teleport"}`)), `events[0].nav: unknown navigation "teleport"`},
		{"negative errors", string(beaconWith(`{"type":"page_view","errors":-1}`)), "events[0].errors"},
		{"fraction errors", string(beaconWith(`{"type":"page_view","errors":1.5}`)), "events[0]: errors: expected a whole number"},
		{"bad count", string(beaconWith(`{"type":"error","count":-3}`)), "events[0].count"},
		{"bad kind", string(beaconWith(`{"type":"error","kind":"panic"}`)), `events[0].kind: unknown error kind "panic"`},
		{"bad utf8", "{\"v\":1,\"session\":\"abcdefgh\xff\",\"events\":[]}", "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBeacon([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted %s", tc.body)
			}
			var be *BeaconError
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a *BeaconError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// The beacons the snippet sends take the fast parser, not the fallback.
func TestFastParserTakesUsualBeacons(t *testing.T) {
	for _, body := range []string{validBeacon, string(beaconWith(`{"type":"page_view","url":"/","nav":"route","errors":0}`)),
		`{"v":1,"site":"","session":"3f9a1c0b7d2e4a6b","sample_rate":0.25,"device":"mobile","events":[{"type":"error","url":"https://shop.example.com/caf\u00e9","kind":"rejection","message":"Fehler: Größe \"x\"","stack":"a\nb","count":3}]}`,
	} {
		var b Beacon
		if !parseBeacon([]byte(body), &b) {
			t.Errorf("fell back on %s", body)
		}
	}
}

func FuzzDecodeBeacon(f *testing.F) {
	f.Add([]byte(validBeacon))
	f.Add(beaconWith(`{"type":"error","message":"a@b.co 4242424242424242","stack":"at x (https://a/b?c=d:1:2)"}`))
	f.Add([]byte(`{"v":1,"session":"abcdefgh","events":[{"type":"vital","name":"cls","value":1e308}]}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"session":"abcdefgh","events":[{"type":"error","message":"caf\u00e9 \ud83d\ude00 \ud800 \" \\ \/ \b\f\n\r\t","stack":"é😀"}]}`))
	f.Add([]byte(`{"v":1,"V":2,"session":"abcdefgh","events":[{"type":"page_view","Type":"vital"}]}`))
	f.Add([]byte(`{"v":1,"session":"abcdefgh","session":"ijklmnop","events":[{"type":"page_view","errors":-0,"url":null}]}`))
	f.Add([]byte(` {"v":1.0,"session":"abcdefgh","sample_rate":1e-1,"events":[{"type":"vital","name":"lcp","value":-0.0e+0}]} `))
	f.Add([]byte(`{"\u0076":1,"session":"abcdefgh","events":[{"type":"page_view"}]}`))
	fx := newFixture(f, func(c *config.RUM) {
		c.RateLimit.PerIP, c.RateLimit.PerIPBurst, c.RateLimit.PerSite, c.RateLimit.PerSiteBurst = 1e9, 1<<30, 1e9, 1<<30
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBeacon(body)
		if err != nil {
			var be *BeaconError
			if !errors.As(err, &be) {
				t.Fatalf("non-BeaconError %T: %v", err, err)
			}
			return
		}
		if len(b.Events) == 0 || len(b.Events) > MaxEvents {
			t.Fatalf("accepted %d events", len(b.Events))
		}
		// The fast decoder must accept nothing the strict encoding/json
		// path would refuse, and read it the same way.
		slow, err := decodeSlow(body)
		if err != nil {
			t.Fatalf("fast path accepted what the strict path refuses (%v): %q", err, body)
		}
		if !reflect.DeepEqual(b, slow) {
			t.Fatalf("fast and strict paths differ:\n%+v\n%+v", b, slow)
		}
		// Whatever decodes must ingest without a panic or a 500.
		w := fx.post(body, "10.0.0.1", nil)
		if w.Code != 202 && w.Code != 400 {
			t.Fatalf("status %d for a decodable beacon: %s", w.Code, w.Body)
		}
	})
}
