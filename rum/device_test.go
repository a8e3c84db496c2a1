package rum

import (
	"strings"
	"testing"
)

func TestDeviceClassAndTheParsedUserAgent(t *testing.T) {
	ipad := "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
	androidTablet := "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	androidPhone := "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
	cases := []struct{ ua, hint, want string }{
		{testUA, "", DeviceDesktop},
		{testUA, "?1", DeviceMobile},
		{mobileUA, "", DeviceMobile},
		{mobileUA, "?0", DeviceDesktop},
		{ipad, "?1", DeviceTablet},
		{androidTablet, "", DeviceTablet},
		{androidPhone, "", DeviceMobile},
		{"", "", DeviceDesktop},
	}
	f := newFixture(t, nil)
	for _, c := range cases {
		if got := DeviceClass(c.ua, c.hint); got != c.want {
			t.Errorf("DeviceClass(%.40q, %q) = %s, want %s", c.ua, c.hint, got, c.want)
		}
		// Parsed once and cached, the answer is the same.
		for range 2 {
			if got := f.c.userAgentOf(c.ua).device(c.hint); got != c.want {
				t.Errorf("cached device of (%.40q, %q) = %s, want %s", c.ua, c.hint, got, c.want)
			}
		}
	}
	if u := f.c.userAgentOf(testUA); u.bot || u.browser != "Chrome 130" {
		t.Errorf("parsed %+v", u)
	}
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": true,
		"curl/8.5.0": true, "": true, testUA: false,
		strings.Repeat("x", 600) + " Lighthouse": true, // past the stack buffer
	} {
		if got := IsBot(ua); got != want {
			t.Errorf("IsBot(%.40q) = %v, want %v", ua, got, want)
		}
	}
}
