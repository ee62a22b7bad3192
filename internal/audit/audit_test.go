package audit

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRedactedHidesSecretFields(t *testing.T) {
	c := Changes{}.Set("password", "$2a$old", "$2a$new").Set("dkim.key", nil, "PEM").Set("webhook_secret", "a", "b").
		Set("role", "editor", "owner").Set("name", "same", "same")
	r := c.Redacted()
	if _, ok := r["name"]; ok {
		t.Errorf("an unchanged field is recorded: %+v", r)
	}
	if r["role"] != (Change{Before: "editor", After: "owner"}) {
		t.Errorf("role = %+v", r["role"])
	}
	if r["password"] != (Change{Before: Hidden, After: Hidden}) || r["dkim.key"] != (Change{After: Hidden}) || r["webhook_secret"].After != Hidden {
		t.Errorf("secrets = %+v", r)
	}
	if c["password"].After != "$2a$new" {
		t.Error("Redacted changed its receiver")
	}
}

func TestDiff(t *testing.T) {
	d := Diff(map[string]string{"a": "1", "b": "2", "gone": "x"}, map[string]string{"a": "1", "b": "3", "new": "y"})
	want := Changes{"b": {Before: "2", After: "3"}, "gone": {Before: "x"}, "new": {After: "y"}}
	if len(d) != len(want) {
		t.Fatalf("Diff = %+v", d)
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %+v, want %+v", k, d[k], v)
		}
	}
}

func TestClientIPAndActor(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7")
	if ip := ClientIP(r, false); ip != "127.0.0.1" {
		t.Errorf("without trust_proxy = %q", ip)
	}
	if ip := ClientIP(r, true); ip != "203.0.113.7" {
		t.Errorf("with trust_proxy = %q", ip)
	}
	r.Header.Set("X-Forwarded-For", "not an address")
	if ip := ClientIP(r, true); ip != "127.0.0.1" {
		t.Errorf("with a bad header = %q", ip)
	}
	if _, ok := ActorFrom(context.Background()); ok {
		t.Error("an actor in an empty context")
	}
	a := CLI()
	if a.Via != ViaCLI || len(a.Name) <= len("cli:") || a.Name[:4] != "cli:" {
		t.Errorf("CLI() = %+v", a)
	}
	got, ok := ActorFrom(WithActor(context.Background(), a))
	if !ok || got != a {
		t.Errorf("ActorFrom = %+v, %v", got, ok)
	}
}

func TestCreatedAndCSV(t *testing.T) {
	c := Changes{}.Set("name", "", "Morning").Set("public", false, true).Set("description", "", "").Set("opt_in", "", "single").Created()
	if len(c) != 3 || c["name"] != (Change{After: "Morning"}) || c["public"] != (Change{After: true}) {
		t.Errorf("Created = %+v", c)
	}
	row := Entry{Actor: "=HYPERLINK(\"http://x\")", Action: "campaign.start", Object: "@SUM(A1)"}.CSVRecord()
	if row[1] != `'=HYPERLINK("http://x")` || row[5] != "'@SUM(A1)" || row[4] != "campaign.start" {
		t.Errorf("CSVRecord = %q", row)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"24h":                  now.Add(-24 * time.Hour),
		"7d":                   now.AddDate(0, 0, -7),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"2026-03-01T09:30:00Z": time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
	} {
		if got, err := ParseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-3h", "7x"} {
		if _, err := ParseSince(in, now); err == nil {
			t.Errorf("ParseSince(%q) accepted", in)
		}
	}
}
