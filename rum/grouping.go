package rum

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// maxFingerprintFrames is how many in-app frames, from the top of the
// stack, make an error's fingerprint.
const maxFingerprintFrames = 3

// frame is one stack frame as it counts for grouping: the function name
// and the script's path, without host, query, line or column.
type frame struct {
	function string
	// file is the script's path ("/static/app.[hash].js"), or "" for
	// code inside the page itself (an inline script), whose "file" is
	// the page's URL and must not split one error into one group per page.
	file string
}

// String shows a frame as the group's culprit: "render (/app.js)", or
// "render (inline script)".
func (f frame) String() string {
	fn := f.function
	if fn == "" {
		fn = "anonymous function"
	}
	if f.file == "" {
		return fn + " (inline script)"
	}
	return fn + " (" + f.file + ")"
}

// Fingerprint identifies "the same error" as Sentry groups issues: a hash of
// the kind, the normalised message (an "Uncaught " prefix dropped, numbers
// blanked, spaces collapsed) and the top three in-app stack frames, each
// by function and script path (no host, query, line or column, content
// hashes in file names blanked). Frames of browser extensions and native
// code are not in-app. Code inline in the page counts as one place
// whatever the page's URL, so the page URL never splits a group: the same
// error on / and on /product/1 is one group. pageURL is the event's url,
// used only to recognise inline frames.
func Fingerprint(kind, message, stack, pageURL string) string {
	fp, _ := fingerprint(kind, message, stack, pageURL)
	return fp
}

// fingerprint also returns the top in-app frame ("" without one).
func fingerprint(kind, message, stack, pageURL string) (fp, culprit string) {
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(normalizeMessage(message)))
	page := blankHashes(pathOf(pageURL))
	n := 0
	for line := range strings.Lines(stack) {
		f, ok := parseFrame(line, page)
		if !ok {
			continue
		}
		if n == 0 {
			culprit = f.String()
		}
		h.Write([]byte{0})
		h.Write([]byte(f.function))
		h.Write([]byte{1})
		h.Write([]byte(f.file))
		if n++; n == maxFingerprintFrames {
			break
		}
	}
	return fmt.Sprintf("%016x", h.Sum64()), culprit
}

// normalizeMessage keeps what names an error and drops what varies
// between occurrences: Chrome's "Uncaught " prefix (window.onerror has it,
// error.message has not), digits (ids, counts, sizes) and runs of spaces.
func normalizeMessage(m string) string {
	m = strings.TrimSpace(m)
	m = strings.TrimPrefix(m, "Uncaught ")
	return strings.Join(strings.Fields(blankDigits(m)), " ")
}

// parseFrame reads one stack line in V8's form ("    at fn (url:1:2)",
// "    at url:1:2", "    at async fn (url:1:2)") or in SpiderMonkey's and
// JavaScriptCore's ("fn@url:1:2", "@url:1:2"), and reports whether it is
// an in-app frame: code served over http(s) (or a relative path), not an
// extension's, not native code, not eval'd text. page is the page's path,
// for recognising inline scripts.
func parseFrame(line, page string) (frame, bool) {
	line = strings.TrimSpace(line)
	var fn, loc string
	if rest, ok := strings.CutPrefix(line, "at "); ok {
		rest = strings.TrimPrefix(rest, "async ")
		if i := strings.LastIndex(rest, " ("); i >= 0 && strings.HasSuffix(rest, ")") {
			fn, loc = rest[:i], rest[i+2:len(rest)-1]
		} else {
			loc = rest
		}
		if strings.HasPrefix(loc, "eval at ") || strings.Contains(loc, "), <anonymous>") {
			return frame{}, false
		}
		if i := strings.Index(fn, " [as "); i >= 0 {
			fn = fn[:i]
		}
	} else if i := strings.IndexByte(line, '@'); i >= 0 && (!strings.Contains(line[:i], " ") || line[:i] == "global code" || line[:i] == "eval code") {
		// Function names hold no '@'; the location may (/lodash@4/x.js).
		fn, loc = line[:i], line[i+1:]
		fn = strings.TrimRight(fn, "/<") // SpiderMonkey names closures "outer/<"
		if fn == "global code" || fn == "eval code" {
			fn = ""
		}
	} else {
		return frame{}, false
	}
	if fn == "<anonymous>" || fn == "Object.<anonymous>" {
		fn = ""
	}
	file, ok := scriptPath(loc)
	if !ok {
		return frame{}, false
	}
	if file == page || !strings.Contains(file[strings.LastIndexByte(file, '/')+1:], ".") {
		// The page itself (or, after a client-side route change, another
		// page of the site: a path whose last part has no extension).
		file = ""
	}
	return frame{function: fn, file: file}, true
}

// scriptPath turns a frame's location ("https://cdn.shop/app.js?v=2:10:5")
// into the script's path ("/app.js"), and reports false for locations that
// are not the site's code (extensions, native code, anonymous or eval'd
// text).
func scriptPath(loc string) (string, bool) {
	loc = reLineCol.ReplaceAllString(loc, "")
	if !strings.HasPrefix(loc, "http://") && !strings.HasPrefix(loc, "https://") && !strings.HasPrefix(loc, "/") {
		return "", false // chrome-extension://, [native code], <anonymous>, blob:, ...
	}
	return blankHashes(pathOf(loc)), true
}

// blankHashes replaces content hashes in a script's file name
// (app.3f9a2b1c.js, chunk-7d2e4a6b8c0d.js) with "[hash]", so a deploy that
// only renames bundles keeps its errors' groups.
func blankHashes(path string) string {
	dir, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i+1], path[i+1:]
	}
	var b strings.Builder
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' && name[i] != '-' && name[i] != '_' {
			continue
		}
		if part := name[start:i]; looksLikeHash(part) {
			b.WriteString("[hash]")
		} else {
			b.WriteString(part)
		}
		if i < len(name) {
			b.WriteByte(name[i])
		}
		start = i + 1
	}
	return dir + b.String()
}

// looksLikeHash: at least 6 hex characters with a digit, or at least 8
// letters and digits mixed.
func looksLikeHash(s string) bool {
	hex, digits, letters, other := charClasses(s)
	return len(s) >= 6 && !other && (hex && digits > 0 || len(s) >= 8 && digits > 0 && letters > 0)
}

// BrowserOf names a browser and its major version from a User-Agent
// ("Chrome 130", "Firefox 128", "Safari 17", "Edge 129"), "Other" when it
// cannot tell.
func BrowserOf(ua string) string {
	for _, b := range [...]struct{ token, name string }{
		{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
		{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
	} {
		if i := strings.Index(ua, b.token); i >= 0 {
			return withMajor(b.name, ua[i+len(b.token):])
		}
	}
	if strings.Contains(ua, "Safari/") {
		if i := strings.Index(ua, "Version/"); i >= 0 {
			return withMajor("Safari", ua[i+len("Version/"):])
		}
		return "Safari"
	}
	return "Other"
}

func withMajor(name, version string) string {
	n := 0
	for n < len(version) && n < 4 && version[n] >= '0' && version[n] <= '9' {
		n++
	}
	if n == 0 {
		return name
	}
	return name + " " + version[:n]
}

// Regroup returns g with its fingerprint and culprit worked out again from
// its sample (kind, message, stack and page URL), for stores upgrading
// groups kept under an older fingerprint.
func Regroup(g ErrorGroup) ErrorGroup {
	g.Fingerprint, g.Culprit = fingerprint(g.Kind, g.Message, g.SampleStack, g.SampleURL)
	return g
}
