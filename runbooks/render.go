package runbooks

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer turns runbook Markdown into HTML with goldmark: CommonMark plus
// GitHub's tables, strikethrough, task lists and autolinks. It never
// passes raw HTML through (goldmark's default: raw HTML blocks and inline
// tags become comments saying they were omitted) and drops links with
// dangerous schemes (javascript:, vbscript:, file:, data: other than
// images), so a runbook cannot inject script into the pages that show it.
// A Renderer is safe for concurrent use; build one and reuse it.
type Renderer struct{ md goldmark.Markdown }

// NewRenderer returns the runbook renderer.
func NewRenderer() *Renderer {
	return &Renderer{md: goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		// No html.WithUnsafe(): raw HTML is omitted, dangerous URLs dropped.
	)}
}

// Render returns the HTML of a Markdown document.
func (r *Renderer) Render(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(markdown), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}

// HTML renders the runbook's body.
func (r *Renderer) HTML(rb Runbook) (string, error) {
	out, err := r.Render(rb.Body)
	if err != nil {
		return "", fmt.Errorf("runbook %s: %w", rb.Name, err)
	}
	return out, nil
}
