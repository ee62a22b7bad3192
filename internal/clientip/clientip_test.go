package clientip_test

import (
	"net/http/httptest"
	"testing"

	"github.com/herald-news/herald/internal/clientip"
)

func TestFrom(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:51234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if got := clientip.From(r, false); got != "10.0.0.2" {
		t.Errorf("without trust_proxy: %q", got)
	}
	if got := clientip.From(r, true); got != "198.51.100.7" {
		t.Errorf("with trust_proxy: %q, want the address the proxy appended", got)
	}
	r.Header.Set("X-Forwarded-For", "not-an-ip")
	if got := clientip.From(r, true); got != "10.0.0.2" {
		t.Errorf("a forged header: %q", got)
	}
}
