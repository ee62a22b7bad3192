package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

func TestMaintenanceFoldsOldEvents(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().AddDate(0, 0, -100)
	var evs []model.Event
	for i := range 30 {
		evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: 1, SubscriberID: int64(i%10 + 1), At: old})
	}
	evs = append(evs, model.Event{Kind: model.EventOpen, CampaignID: 1, SubscriberID: 3, At: time.Now()})
	if err := s.RecordEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	data := "--data=" + dir

	out, errs, code := herald(t, nil, nil, data, "maintenance")
	if code != 0 || !strings.Contains(out, "retention is off") || !strings.Contains(out, "auto_vacuum incremental") {
		t.Fatalf("maintenance with retention off: %d %q %q", code, out, errs)
	}
	out, errs, code = herald(t, map[string]string{"HERALD_RETENTION_EVENTS_DAYS": "90"}, nil, data, "maintenance", "--dry-run")
	if code != 0 || !strings.Contains(out, ": 30 would be folded") {
		t.Fatalf("dry run: %d %q %q", code, out, errs)
	}
	out, errs, code = herald(t, nil, nil, data, "maintenance", "--events-days", "90")
	if code != 0 || !strings.Contains(out, ": 30 folded into counts and deleted") || !strings.Contains(errs, "folding opens and clicks") {
		t.Fatalf("maintenance: %d %q %q", code, out, errs)
	}
	_, errs, code = herald(t, map[string]string{"HERALD_SUNSET_MONTHS": "6"}, nil, data, "maintenance", "--events-days", "30")
	if code != 2 || !strings.Contains(errs, "keep them at least 186 days") {
		t.Fatalf("retention shorter than the sunset: %d %q", code, errs)
	}
	s, err = store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "herald.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.CampaignEventCounts(context.Background(), 1)
	if err != nil || c.Total[model.EventOpen] != 31 || c.Unique[model.EventOpen] != 10 {
		t.Fatalf("counts after maintenance = %+v, %v", c, err)
	}
}
