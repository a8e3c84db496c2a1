package store

// LivenessPID is the server process of p's liveness session, for tests
// that end it as a killed process would (0 while it is being reopened).
func LivenessPID(p *Postgres) uint32 {
	p.live.mu.Lock()
	defer p.live.mu.Unlock()
	if p.live.conn == nil {
		return 0
	}
	return p.live.conn.PgConn().PID()
}
