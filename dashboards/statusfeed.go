package dashboards

import (
	"encoding/xml"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
)

// feedEntry is one incident or maintenance in the feeds.
type feedEntry struct {
	ID, Title, Link string
	Published       time.Time
	Updated         time.Time
	HTML            string
}

// feedEntries lists the public incidents (unresolved and past) and the
// planned maintenance, newest change first, each with its updates as
// HTML, as Statuspage's history feeds carry them.
func feedEntries(m *statusModel, incidents []spIncident) []feedEntry {
	var out []feedEntry
	for _, in := range append(slices.Clone(incidents), m.maint...) {
		var b strings.Builder
		for _, u := range in.IncidentUpdates {
			fmt.Fprintf(&b, "<p><small>%s</small><br><strong>%s</strong> - %s</p>",
				html.EscapeString(u.DisplayAt.UTC().Format("Jan 2, 15:04 UTC")), html.EscapeString(incidentStatusLabels[u.Status]),
				strings.ReplaceAll(html.EscapeString(u.Body), "\n", "<br>"))
		}
		if len(in.Components) > 0 {
			names := make([]string, 0, len(in.Components))
			for _, c := range in.Components {
				names = append(names, html.EscapeString(c.Name))
			}
			fmt.Fprintf(&b, "<p>Affected: %s</p>", andList(names))
		}
		out = append(out, feedEntry{ID: in.Shortlink, Title: in.Name, Link: in.Shortlink, Published: in.CreatedAt, Updated: in.UpdatedAt, HTML: b.String()})
		if in.ScheduledFor != nil {
			// Several windows share the page's maintenance anchor: give
			// each its own identity.
			out[len(out)-1].ID = m.base + "/status#" + in.ID
		}
	}
	slices.SortStableFunc(out, func(a, b feedEntry) int { return b.Updated.Compare(a.Updated) })
	return out
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Link      atomLink `xml:"link"`
	Published string   `xml:"published"`
	Updated   string   `xml:"updated"`
	Content   atomText `xml:"content"`
}

type atomDoc struct {
	XMLName xml.Name   `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string     `xml:"xml:lang,attr"`
	ID      string     `xml:"id"`
	Title   string     `xml:"title"`
	Links   []atomLink `xml:"link"`
	Updated string     `xml:"updated"`
	Author  struct {
		N string `xml:"name"`
	} `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

// atomFeed writes the feed as Atom 1.0 (RFC 4287).
func atomFeed(m *statusModel, entries []feedEntry) ([]byte, error) {
	base := m.base
	doc := atomDoc{Lang: "en", ID: base + "/status", Title: m.page.Title + " - incident history",
		Links:   []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "/status"}, {Rel: "self", Type: "application/atom+xml", Href: base + "/status/feed.atom"}},
		Updated: m.pageJSON.UpdatedAt.Format(time.RFC3339)}
	doc.Author.N = m.page.Title
	for _, e := range entries {
		doc.Entries = append(doc.Entries, atomEntry{ID: e.ID, Title: e.Title, Link: atomLink{Rel: "alternate", Type: "text/html", Href: e.Link},
			Published: e.Published.UTC().Format(time.RFC3339), Updated: e.Updated.UTC().Format(time.RFC3339), Content: atomText{Type: "html", Body: e.HTML}})
	}
	return marshalFeed(doc)
}

type rssItem struct {
	Title string `xml:"title"`
	Link  string `xml:"link"`
	GUID  struct {
		Permalink bool   `xml:"isPermaLink,attr"`
		Value     string `xml:",chardata"`
	} `xml:"guid"`
	PubDate     string `xml:"pubDate"`
	Description string `xml:"description"`
}

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title         string    `xml:"title"`
		Link          string    `xml:"link"`
		Description   string    `xml:"description"`
		Language      string    `xml:"language"`
		LastBuildDate string    `xml:"lastBuildDate"`
		Items         []rssItem `xml:"item"`
	} `xml:"channel"`
}

// rssFeed writes the feed as RSS 2.0; an item's date is its latest update.
func rssFeed(m *statusModel, entries []feedEntry) ([]byte, error) {
	base := m.base
	doc := rssDoc{Version: "2.0"}
	ch := &doc.Channel
	ch.Title, ch.Link, ch.Language = m.page.Title+" - incident history", base+"/status", "en"
	ch.Description = "Incidents and planned maintenance reported on " + m.page.Title
	ch.LastBuildDate = m.pageJSON.UpdatedAt.Format(time.RFC1123Z)
	for _, e := range entries {
		it := rssItem{Title: e.Title, Link: e.Link, PubDate: e.Updated.UTC().Format(time.RFC1123Z), Description: e.HTML}
		it.GUID.Permalink, it.GUID.Value = false, e.ID
		ch.Items = append(ch.Items, it)
	}
	return marshalFeed(doc)
}

func marshalFeed(v any) ([]byte, error) {
	body, err := xml.MarshalIndent(v, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode feed: %w", err)
	}
	return append(append([]byte(xml.Header), body...), '\n'), nil
}
