package logship

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// swapHandler is the process logger's handler: it formats each record with
// the pipeline in force, so loggers derived before a reload (With, each
// component's) follow a new format or Loki setting. The attributes and
// groups added by With and WithGroup are replayed on the pipeline's
// handler once per pipeline and cached.
type swapHandler struct {
	l   *Logging
	ops []handlerOp
	// derived is the pipeline's handler with ops applied, for the
	// pipeline it was built for.
	derived atomic.Pointer[derivedHandler]
}

type handlerOp struct {
	attrs []slog.Attr
	group string
}

type derivedHandler struct {
	p *pipeline
	h slog.Handler
}

func (h *swapHandler) current() slog.Handler {
	p := h.l.pipe.Load()
	if d := h.derived.Load(); d != nil && d.p == p {
		return d.h
	}
	out := p.handler
	for _, op := range h.ops {
		if op.group != "" {
			out = out.WithGroup(op.group)
		} else {
			out = out.WithAttrs(op.attrs)
		}
	}
	h.derived.Store(&derivedHandler{p: p, h: out})
	return out
}

// Enabled implements slog.Handler; the level is shared by every pipeline.
func (h *swapHandler) Enabled(_ context.Context, lvl slog.Level) bool {
	return lvl >= h.l.level.Level()
}

// Handle implements slog.Handler.
func (h *swapHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.current().Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *swapHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &swapHandler{l: h.l, ops: append(h.ops[:len(h.ops):len(h.ops)], handlerOp{attrs: attrs})}
}

// WithGroup implements slog.Handler.
func (h *swapHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &swapHandler{l: h.l, ops: append(h.ops[:len(h.ops):len(h.ops)], handlerOp{group: name})}
}
