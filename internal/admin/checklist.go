package admin

import (
	"context"

	"github.com/herald-news/herald/internal/settings"
)

// checkItem is one step of the first-run checklist.
type checkItem struct {
	ID   string // element id, and the catalog keys' last part
	Done bool
	Link string // where the step is done in the admin ("" when in the configuration)
}

// Title and Hint return the step's catalog keys.
func (c checkItem) Title() string { return checklistKeys[c.ID][0] }

// Hint returns the catalog key of the step's hint.
func (c checkItem) Hint() string { return checklistKeys[c.ID][1] }

var checklistKeys = map[string][2]string{
	"base_url": {"admin.settings.checklist.base_url", "admin.settings.checklist.base_url_hint"},
	"from":     {"admin.settings.checklist.from", "admin.settings.checklist.from_hint"},
	"relay":    {"admin.settings.checklist.relay", "admin.settings.checklist.relay_hint"},
	"list":     {"admin.settings.checklist.list", "admin.settings.checklist.list_hint"},
	"test":     {"admin.settings.checklist.test", "admin.settings.checklist.test_hint"},
}

// checklist is the dashboard's first-run checklist: what a newsroom sets
// before its first real send, shown until every step is done.
type checklist struct {
	Items []checkItem
	Done  int
}

// Open reports whether a step is left: the checklist shows until none is.
func (c checklist) Open() bool { return c.Done < len(c.Items) }

// checklist works out which first-run steps are done: base_url in the
// configuration, the publication's From (Settings), a relay in the
// configuration, a list, and a test copy that went out.
func (a *Admin) checklist(ctx context.Context, lists int) (checklist, error) {
	pub, err := a.publication(ctx)
	if err != nil {
		return checklist{}, err
	}
	tested, err := settings.SenderTested(ctx, a.d.Store)
	if err != nil {
		return checklist{}, err
	}
	c := checklist{Items: []checkItem{
		{ID: "base_url", Done: !a.baseURLGuessed(), Link: "/admin/settings#relays"},
		{ID: "from", Done: pub.From != "", Link: "/admin/settings#sender"},
		{ID: "relay", Done: len(a.d.Relays) > 0, Link: "/admin/settings#relays"},
		{ID: "list", Done: lists > 0, Link: "/admin/lists#new-list"},
		{ID: "test", Done: !tested.IsZero(), Link: "/admin/settings#sender-test"},
	}}
	for _, it := range c.Items {
		if it.Done {
			c.Done++
		}
	}
	return c, nil
}
