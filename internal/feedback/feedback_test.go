package feedback_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/feedback"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		f    model.Feedback
		want string // "" for valid, else a word of the problem
	}{
		{model.Feedback{Kind: model.FeedbackBriefing, Rating: 3, Comment: "  Good.  "}, ""},
		{model.Feedback{Kind: model.FeedbackBriefing, Rating: 4}, "three ratings"},
		{model.Feedback{Kind: model.FeedbackBriefing}, "three ratings"},
		{model.Feedback{Kind: model.FeedbackSection, Section: "picks", Rating: 1}, ""},
		{model.Feedback{Kind: model.FeedbackSection, Section: "weather", Rating: 1}, "no section"},
		{model.Feedback{Kind: model.FeedbackLeaving, Reason: "too-many"}, ""},
		{model.Feedback{Kind: model.FeedbackLeaving, Comment: "Moving abroad."}, ""},
		{model.Feedback{Kind: model.FeedbackLeaving}, "choose a reason"},
		{model.Feedback{Kind: model.FeedbackLeaving, Reason: "spite"}, "not one of the reasons"},
		{model.Feedback{Kind: model.FeedbackBriefing, Rating: 2, Comment: strings.Repeat("é", feedback.MaxComment+1)}, "at most"},
		{model.Feedback{Kind: "vote", Rating: 2}, "unknown kind"},
	} {
		f := tc.f
		err := feedback.Check(&f)
		var p *feedback.Problem
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.f, err)
		case tc.want != "" && (!errors.As(err, &p) || !strings.Contains(p.Reason, tc.want)):
			t.Errorf("%+v: %v, want a problem saying %q", tc.f, err, tc.want)
		}
		if tc.want == "" && f.Comment != strings.TrimSpace(tc.f.Comment) {
			t.Errorf("comment not trimmed: %q", f.Comment)
		}
	}
}

// TestFeedbackStored: a reader's later rating replaces the earlier one,
// the summary counts and averages, and erasing the reader keeps the
// rating but not who gave it nor their words.
func TestFeedbackStored(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := &model.List{Slug: "daily", Name: "Daily"}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		c := &model.Campaign{Name: "Evening", EditionID: 1, ListIDs: []int64{l.ID}, From: "Desk <desk@example.com>"}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartCampaign(ctx, c.ID, model.Frozen{Subject: "s", HTML: []byte("h"), Text: []byte("t")}); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range []string{"ann@example.com", "bob@example.com"} {
			sub := &model.Subscriber{Email: e}
			if _, err := s.UpsertSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sub.ID)
		}
		for _, f := range []model.Feedback{
			{Kind: model.FeedbackBriefing, CampaignID: c.ID, SubscriberID: ids[0], Rating: 1},
			{Kind: model.FeedbackBriefing, CampaignID: c.ID, SubscriberID: ids[0], Rating: 3, Comment: "Changed my mind."},
			{Kind: model.FeedbackBriefing, CampaignID: c.ID, SubscriberID: ids[1], Rating: 2},
			{Kind: model.FeedbackSection, CampaignID: c.ID, SubscriberID: ids[1], Section: "picks", Rating: 3},
			{Kind: model.FeedbackLeaving, CampaignID: c.ID, SubscriberID: ids[1], Reason: "too-many"},
		} {
			if err := s.SaveFeedback(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		said, err := s.CampaignFeedback(ctx, c.ID, 10)
		if err != nil || said.Responses != 2 || said.Average != 2.5 || said.Ratings[3] != 1 || said.Ratings[1] != 0 ||
			said.Sections["picks"][3] != 1 || said.Leaving["too-many"] != 1 || len(said.Comments) != 1 || said.Comments[0].Email != "ann@example.com" {
			t.Fatalf("summary %+v, %v", said, err)
		}
		over, err := s.FeedbackOverTime(ctx, 10)
		if err != nil || len(over) != 1 || over[0].Responses != 2 || over[0].Average != 2.5 {
			t.Fatalf("over time %+v, %v", over, err)
		}
		if err := s.EraseSubscriber(ctx, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		said, err = s.CampaignFeedback(ctx, c.ID, 10)
		if err != nil || said.Responses != 2 || len(said.Comments) != 0 {
			t.Fatalf("after erasing the reader: %+v, %v", said, err)
		}
	})
}
