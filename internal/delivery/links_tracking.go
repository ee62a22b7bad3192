package delivery

import (
	"net/url"

	"github.com/herald-news/herald/internal/token"
)

// Open is the open-tracking pixel of one recipient of one campaign (an
// image of 1x1 pixel served by the public web).
func (l Links) Open(subscriberID, campaignID int64) string {
	return l.BaseURL + "/o/" + l.Signer.Sign(token.Claims{Purpose: token.Open, SubscriberID: subscriberID, CampaignID: campaignID}) + ".gif"
}

// Click is the tracked form of target, a link of the campaign's edition.
// The public web redirects to target only when it is one of the campaign's
// frozen links, so a Click URL cannot be turned into an open redirect.
func (l Links) Click(subscriberID, campaignID int64, target string) string {
	return l.BaseURL + "/c/" + l.Signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: subscriberID, CampaignID: campaignID}) +
		"?u=" + url.QueryEscape(target)
}

// Hidden is the target of the link no reader can see or reach (see
// hiddenLink): following it marks the recipient's clicks around it as a
// machine's.
func (l Links) Hidden(subscriberID, campaignID int64) string {
	return l.BaseURL + "/l/" + l.Signer.Sign(token.Claims{Purpose: token.Click, SubscriberID: subscriberID, CampaignID: campaignID})
}

// Feedback is the reader's page for rating the campaign's edition (the
// email adds ?r=1 to 3 for its one-click ratings).
func (l Links) Feedback(subscriberID, campaignID int64) string {
	return l.BaseURL + "/feedback/" + l.Signer.Sign(token.Claims{Purpose: token.Feedback, SubscriberID: subscriberID, CampaignID: campaignID})
}
