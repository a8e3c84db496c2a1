package rum

import (
	"net/url"
	"regexp"
	"strings"
)

// Scrubber removes personal data from what pages report before anything is
// counted, stored or logged: query parameters that are not allow-listed, URL
// fragments and user info, and in URLs, messages and stacks it masks email
// addresses, card numbers (Luhn-valid), JWTs, UUIDs, long hex strings and
// other long tokens. It is safe for concurrent use.
type Scrubber struct {
	allowed map[string]bool
}

// NewScrubber returns a scrubber keeping only the named query parameters.
func NewScrubber(allowedQueryParams []string) *Scrubber {
	s := &Scrubber{allowed: map[string]bool{}}
	for _, p := range allowedQueryParams {
		s.allowed[p] = true
	}
	return s
}

// Mask replacements.
const (
	maskEmail = "[email]"
	maskCard  = "[card]"
	maskJWT   = "[jwt]"
	maskUUID  = "[uuid]"
	maskHex   = "[hex]"
	maskToken = "[token]"
)

var (
	reURLInText  = regexp.MustCompile(`https?://[^\s()'"<>\x60]+`)
	reEmail      = regexp.MustCompile(`[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	reJWT        = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*`)
	reUUID       = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	reDigits     = regexp.MustCompile(`\d(?:[ \-]?\d){12,18}`)
	reLongToken  = regexp.MustCompile(`[A-Za-z0-9_\-+/=]{24,}`)
	reLineCol    = regexp.MustCompile(`(?::\d+){1,2}$`)
	reLineColAny = regexp.MustCompile(`(?::\d+){1,2}`)
)

// URL scrubs a page URL: it keeps scheme, host and path, keeps only
// allow-listed query parameters, drops fragment and user info, and masks
// personal data in what remains. Input that does not parse as a URL is
// scrubbed as text.
func (s *Scrubber) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return s.Text(raw)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString("://")
	}
	b.WriteString(maskText(u.Host))
	b.WriteString(maskText(u.EscapedPath()))
	if u.RawQuery != "" {
		kept := url.Values{}
		for k, vs := range u.Query() {
			if s.allowed[k] {
				for _, v := range vs {
					kept.Add(k, maskText(v))
				}
			}
		}
		if len(kept) > 0 {
			b.WriteByte('?')
			b.WriteString(kept.Encode())
		}
	}
	return b.String()
}

// Text masks personal data in free text (messages, stacks, selectors) and
// scrubs the URLs found in it (a trailing :line:col is kept).
func (s *Scrubber) Text(t string) string {
	if t == "" {
		return t
	}
	if strings.Contains(t, "://") {
		t = reURLInText.ReplaceAllStringFunc(t, func(m string) string {
			suffix := reLineCol.FindString(m)
			return s.urlNoText(strings.TrimSuffix(m, suffix)) + suffix
		})
	}
	return maskText(t)
}

// urlNoText drops query (except allow-listed parameters) and fragment from a
// URL found inside text; masking happens on the whole text afterwards.
func (s *Scrubber) urlNoText(raw string) string {
	base, query, _ := strings.Cut(raw, "?")
	base, _, _ = strings.Cut(base, "#")
	query, _, _ = strings.Cut(query, "#")
	if query == "" {
		return base
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return base
	}
	kept := url.Values{}
	for k, vs := range q {
		if s.allowed[k] {
			kept[k] = vs
		}
	}
	if len(kept) == 0 {
		return base
	}
	return base + "?" + kept.Encode()
}

func maskText(t string) string {
	if strings.Contains(t, "@") || strings.Contains(t, "%40") {
		t = reEmail.ReplaceAllString(t, maskEmail)
	}
	if strings.Contains(t, "eyJ") {
		t = reJWT.ReplaceAllString(t, maskJWT)
	}
	if strings.Count(t, "-") >= 4 {
		t = reUUID.ReplaceAllString(t, maskUUID)
	}
	t = reDigits.ReplaceAllStringFunc(t, func(m string) string {
		if luhn(m) {
			return maskCard
		}
		return m
	})
	t = reLongToken.ReplaceAllStringFunc(t, maskLong)
	return t
}

// maskLong masks a long run of token characters when it looks like a secret
// or an identifier: all hex, or a mix of letters and digits. Long words and
// paths of plain letters (/static/js/application) are kept.
func maskLong(m string) string {
	hex, digits, letters, _ := charClasses(m)
	if strings.Contains(m, "/") && !hex {
		// A path: mask only its token-like segments.
		parts := strings.Split(m, "/")
		for i, p := range parts {
			if len(p) >= 24 {
				parts[i] = maskLong(p)
			}
		}
		return strings.Join(parts, "/")
	}
	switch {
	case hex && digits > 0:
		return maskHex
	case digits >= 4 && letters >= 4:
		return maskToken
	}
	return m
}

// charClasses counts the digits and ASCII letters of s and reports
// whether it is all hex digits and whether it holds anything else.
func charClasses(s string) (hex bool, digits, letters int, other bool) {
	hex = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			letters++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
			hex = false
		default:
			hex, other = false, true
		}
	}
	return hex, digits, letters, other
}

// luhn reports whether the digits in s (spaces and dashes ignored) pass the
// Luhn check used by payment card numbers.
func luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 13 && n <= 19 && sum%10 == 0
}
