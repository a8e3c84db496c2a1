package web_test

import (
	"testing"

	"github.com/sentinel-oss/sentinel/web"
	"github.com/sentinel-oss/sentinel/web/webtest"
)

func TestMemorySessions(t *testing.T) {
	webtest.RunSessionStore(t, func(*testing.T) web.SessionStore { return web.NewMemorySessions() })
}
