package rum

import (
	"bytes"
	"strings"
)

// Device classes, the values of the device label.
const (
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceDesktop = "desktop"
)

// DeviceClass classifies a User-Agent as mobile, tablet or desktop, from the
// conventions browsers follow ("Mobi" on phones; iPad, Android without
// Mobile, and "Tablet" on tablets). mobileHint is the Sec-CH-UA-Mobile
// client hint ("?1" or "?0"), which wins when present.
func DeviceClass(ua, mobileHint string) string {
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet") ||
		(strings.Contains(ua, "Android") && !strings.Contains(ua, "Mobile")):
		return DeviceTablet
	case mobileHint == "?1":
		return DeviceMobile
	case mobileHint == "?0":
		return DeviceDesktop
	case strings.Contains(ua, "Mobi") || strings.Contains(ua, "iPhone"):
		return DeviceMobile
	}
	return DeviceDesktop
}

// botMarkers are lower-case substrings of crawler and tool User-Agents whose
// beacons are dropped. Headless Chrome is not among them: automated tests
// drive it on purpose; Sentinel's own browser probes identify themselves
// with "sentinel-probe" and are dropped.
var botMarkers = [...]string{
	"bot", "crawl", "spider", "slurp", "facebookexternalhit", "bingpreview",
	"mediapartners", "lighthouse", "pagespeed", "pingdom", "gtmetrix",
	"uptime", "curl/", "wget/", "python-requests", "go-http-client",
	"sentinel-probe", "phantomjs",
}

// IsBot reports whether a User-Agent belongs to a crawler, monitor or
// command-line tool rather than a person's browser. An empty User-Agent is a
// bot.
func IsBot(ua string) bool {
	if ua == "" {
		return true
	}
	var buf [512]byte // lower-cased here rather than in a new string
	l := buf[:0]
	if len(ua) > len(buf) {
		l = make([]byte, 0, len(ua))
	}
	for i := 0; i < len(ua); i++ {
		c := ua[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l = append(l, c)
	}
	for _, m := range botMarkers {
		if bytes.Contains(l, []byte(m)) {
			return true
		}
	}
	return false
}

// userAgent is what the collector needs from a User-Agent, worked out once
// per distinct User-Agent (there are few: the same browsers send most
// beacons).
type userAgent struct {
	bot     bool
	tablet  bool   // a tablet whatever the client hints say
	mobile  bool   // a phone when no client hint says otherwise
	browser string // BrowserOf
}

func parseUserAgent(ua string) userAgent {
	return userAgent{
		bot:     IsBot(ua),
		tablet:  DeviceClass(ua, "?0") == DeviceTablet,
		mobile:  DeviceClass(ua, "") == DeviceMobile,
		browser: BrowserOf(ua),
	}
}

// device is DeviceClass from the parsed User-Agent and the
// Sec-CH-UA-Mobile hint.
func (u userAgent) device(mobileHint string) string {
	switch {
	case u.tablet:
		return DeviceTablet
	case mobileHint == "?1":
		return DeviceMobile
	case mobileHint == "?0":
		return DeviceDesktop
	case u.mobile:
		return DeviceMobile
	}
	return DeviceDesktop
}

// maxUserAgents bounds the collector's cache of parsed User-Agents; it is
// emptied when full.
const maxUserAgents = 4096

// userAgentOf returns ua parsed, from the cache when it was seen before.
func (c *Collector) userAgentOf(ua string) userAgent {
	if u, ok := c.uas.get(ua); ok {
		return u
	}
	u := parseUserAgent(ua)
	c.uas.put(ua, u)
	return u
}
