// Package web is Sentinel's HTTP adapter: the gin engine with our own
// middleware (request IDs, recovery, access log, client IPs from trusted
// proxies only, body limits, security headers), bearer-token auth by role,
// JSON errors, the operational endpoints (/healthz, /readyz, /metrics,
// /-/reload, /api/v1/backup) and helpers later handlers use to bind
// requests and map domain errors to HTTP statuses.
//
// Handlers are added per role through Server.Routes before Run is called:
//
//	s.Routes().Viewer().GET("/api/v1/probes", h.listProbes)
//
// Domain code never sees *gin.Context; handlers bind a DTO (BindJSON), call
// a service with c.Request.Context(), and answer with c.JSON or Error.
package web
