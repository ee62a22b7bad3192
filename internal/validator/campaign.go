package validator

import (
	"strings"

	"github.com/herald-news/herald/internal/model"
)

// Campaign checks what a campaign must hold before it is stored: a name on
// one line, an audience, local-time and A/B options that can work, a From
// address with or without a display name, and a Reply-To that is a bare
// address when set. The caller fills the default From first. Whether the
// edition exists and is ready to send is delivery.CreateCampaign's check.
// It returns every problem (Errors), the name's first.
func Campaign(c *model.Campaign) error {
	var es Errors
	switch {
	case strings.TrimSpace(c.Name) == "":
		es = append(es, fieldError("name", "admin.validator.campaign_name"))
	case !OneLine(c.Name):
		es = append(es, fieldError("name", "admin.validator.campaign_name_line"))
	}
	if len(c.ListIDs) == 0 && len(c.SegmentIDs) == 0 {
		es = append(es, fieldError("list_ids", "admin.validator.audience"))
	}
	if c.LocalTime != "" {
		if _, _, err := model.ParseLocalTime(c.LocalTime); err != nil {
			es = append(es, fieldError("local_time", "admin.validator.local_time", "Value", q(c.LocalTime)))
		}
	}
	if c.AB != nil {
		if err := c.AB.Check(); err != nil {
			es = append(es, withMessage(fieldError("ab_test", "admin.validator.ab_test", "Problem", err.Error()), sentence(err.Error())))
		} else if c.LocalTime != "" {
			es = append(es, fieldError("ab_test", "admin.validator.ab_local_time"))
		}
	}
	es.add(Sender("from", "reply_to", c.From, c.ReplyTo, true))
	return es.Err()
}

// Sender checks a From and a Reply-To, under the names fromField and
// replyField: the From with or without a display name ("The Courier
// <news@example.com>"), required when need is set; the Reply-To, when set,
// a bare address. It returns every problem (Errors).
func Sender(fromField, replyField, from, replyTo string, need bool) error {
	var es Errors
	switch {
	case !OneLine(from):
		es = append(es, fieldError(fromField, "admin.validator.from_line"))
	case from == "" && !need:
	case !isMailbox(from):
		es = append(es, fieldError(fromField, "admin.validator.from"))
	}
	if replyTo != "" && !isAddress(replyTo) {
		es = append(es, fieldError(replyField, "admin.validator.reply_to"))
	}
	return es.Err()
}
