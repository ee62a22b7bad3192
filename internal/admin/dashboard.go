package admin

import (
	"html/template"
	"net/http"
	"time"

	"github.com/herald-news/herald/internal/auth"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

func (a *Admin) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	camps, err := a.d.Store.CampaignSummaries(ctx, 6, 0)
	if err != nil {
		return err
	}
	growth, err := a.d.Store.SubscriberGrowth(ctx, 30)
	if err != nil {
		return err
	}
	total, err := a.d.Store.CountSubscribers(ctx, store.SubscriberFilter{})
	if err != nil {
		return err
	}
	confirmed, err := a.d.Store.CountSubscribers(ctx, store.SubscriberFilter{Status: model.SubConfirmed})
	if err != nil {
		return err
	}
	lists, err := a.d.Store.Lists(ctx)
	if err != nil {
		return err
	}
	var labels []time.Time
	var totals, news []float64
	var new30 int64
	for _, g := range growth {
		labels = append(labels, g.Day)
		totals = append(totals, float64(g.Total))
		news = append(news, float64(g.New))
		new30 += g.New
	}
	ratings, err := a.d.Store.FeedbackOverTime(ctx, 20)
	if err != nil {
		return err
	}
	var rlabels []time.Time
	var avgs []float64
	for _, r := range ratings {
		rlabels = append(rlabels, r.StartedAt)
		avgs = append(avgs, r.Average)
	}
	var sentTotal int64
	for _, c := range camps {
		sentTotal += c.Progress.Sent
	}
	l := a.lang(r)
	data := map[string]any{
		"Campaigns": camps, "Total": total, "Confirmed": confirmed, "New30": new30, "Lists": len(lists),
		"Growth": chart(l, l.T("admin.dashboard.growth"), labels, "2 Jan", []series{
			{Name: l.T("admin.a11y.chart_subscribers"), Class: "s-total", Values: totals},
			{Name: l.T("admin.a11y.chart_new"), Class: "s-new", Values: news}}, true),
		"SentTotal":    sentTotal,
		"Ratings":      ratings,
		"RatingsChart": chart(l, l.T("admin.a11y.chart_ratings_title"), rlabels, "2 Jan", []series{{Name: l.T("admin.a11y.chart_ratings"), Class: "s-total", Values: avgs}}, false),
		"CanSend":      identity(r).Can(auth.Send),
	}
	a.page(w, r, http.StatusOK, "dashboard", a.lang(r).T("admin.dashboard.title"), "dashboard", data)
	return nil
}

// statusClass maps a status to a badge colour class.
func statusClass(s string) template.HTMLAttr {
	switch model.CampaignStatus(s) {
	case model.CampaignSending:
		return "badge-blue"
	case model.CampaignSent:
		return "badge-green"
	case model.CampaignPaused, model.CampaignScheduled:
		return "badge-amber"
	case model.CampaignCancelled:
		return "badge-red"
	}
	return "badge-grey"
}
