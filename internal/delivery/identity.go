package delivery

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/message"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/render"
)

// Identity is what a campaign's messages say about who sends them and to
// which list they belong. Campaign mail and test copies are built from the
// same Identity, so a test copy shows the headers, and the DKIM signature,
// that readers will get.
type Identity struct {
	From    string // "Name <address>"
	ReplyTo string // optional address
	// List names the List-Id (RFC 2919): "<slug>.<domain>", described by
	// the list's name, the same for every campaign to that list, which is
	// what readers' filters and mailbox providers' grouping rely on
	// (CampaignList picks it for a campaign). Nil gives
	// "newsletter.<domain>".
	List *model.List
	// ListIDDomain is the domain part of List-Id (default: From's domain).
	ListIDDomain      string
	DKIM              *message.DKIM
	UnsubscribeMailto string
}

// Config is the message configuration of campaign campaignID (0 for a test
// copy outside any campaign) with the given subject. Feedback-ID is
// "<campaign>:<list>:herald" ("c42:evening:herald", "test:evening:herald"),
// so complaint reports can be told apart by campaign and by list.
func (id Identity) Config(campaignID int64, subject string) (message.Config, error) {
	campaign := "test"
	if campaignID != 0 {
		campaign = fmt.Sprintf("c%d", campaignID)
	}
	return id.config(campaign, subject)
}

// config is the message configuration for mail labelled label in
// Feedback-ID: "c42" for a campaign, "test" for test copies, "tx" for
// transactional messages.
func (id Identity) config(label, subject string) (message.Config, error) {
	from, err := mail.ParseAddress(id.From)
	if err != nil {
		return message.Config{}, fmt.Errorf("From %q: %w", id.From, err)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	listDomain := id.ListIDDomain
	if listDomain == "" {
		listDomain = domain
	}
	slug, name := "newsletter", ""
	if id.List != nil {
		slug, name = id.List.Slug, id.List.Name
	}
	cfg := message.Config{
		From:              message.Address{Name: from.Name, Email: from.Address},
		Subject:           subject,
		ListID:            slug + "." + listDomain,
		ListName:          name,
		FeedbackID:        label + ":" + slug + ":herald",
		UnsubscribeMailto: id.UnsubscribeMailto,
		DKIM:              id.DKIM,
	}
	if id.ReplyTo != "" {
		rt, err := mail.ParseAddress(id.ReplyTo)
		if err != nil {
			return message.Config{}, fmt.Errorf("Reply-To %q: %w", id.ReplyTo, err)
		}
		cfg.ReplyTo = message.Address{Name: rt.Name, Email: rt.Address}
	}
	return cfg, nil
}

// ListNamer reads what a campaign's List-Id may name: lists and segments.
type ListNamer interface {
	ListByID(ctx context.Context, id int64) (*model.List, error)
	Segment(ctx context.Context, id int64) (*model.Segment, error)
}

// CampaignList is the list c's List-Id and Feedback-ID name: its first
// list, the same header for every campaign to that list; for a campaign
// to segments only, one standing for its first segment ("segment-<id>",
// described by the segment's name), stable across campaigns to that
// segment and across renames; nil for neither (newsletter.<domain>). The
// campaign's mail, its test copies and every front door's test send use
// it.
func CampaignList(ctx context.Context, st ListNamer, c *model.Campaign) (*model.List, error) {
	switch {
	case len(c.ListIDs) > 0:
		l, err := st.ListByID(ctx, c.ListIDs[0])
		if err != nil {
			return nil, fmt.Errorf("campaign %d list: %w", c.ID, err)
		}
		return l, nil
	case len(c.SegmentIDs) > 0:
		sg, err := st.Segment(ctx, c.SegmentIDs[0])
		if err != nil {
			return nil, fmt.Errorf("campaign %d segment: %w", c.ID, err)
		}
		return &model.List{Slug: fmt.Sprintf("segment-%d", sg.ID), Name: sg.Name}, nil
	}
	return nil, nil
}

// PostmarkMetadata is the header that makes Postmark hand a message's
// Message-ID back in its bounce and spam-complaint webhooks (Postmark
// returns X-PM-Metadata-* headers as the webhook's Metadata), so those
// reports count toward the right campaign and subscriber.
const PostmarkMetadata = "X-PM-Metadata-herald-message-id"

// TestCopy builds one test copy of an email for address to: the subject
// marked "[Test]" in the email's language, every header and the DKIM signature as the campaign's
// own mail will have them (Feedback-ID says "test", so a complaint about a
// test copy never counts against a campaign), and messageID, which must
// not be a campaign message's (a test copy must never fold into the real
// one).
func TestCopy(id Identity, em *render.Email, f render.Fields, to, messageID string) ([]byte, error) {
	cfg, err := id.Config(0, i18n.For(em.Language()).T("email.test_marker")+" "+em.Subject())
	if err != nil {
		return nil, err
	}
	tmpl, err := message.New(cfg)
	if err != nil {
		return nil, err
	}
	return tmpl.Append(nil, &message.Message{
		To:             message.Address{Email: to},
		MessageID:      messageID,
		UnsubscribeURL: f.UnsubscribeURL,
		Text:           em.AppendText(nil, f),
		HTML:           em.AppendHTML(nil, f),
	})
}
