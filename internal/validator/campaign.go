package validator

import (
	"net/mail"
	"strings"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
)

// Campaign checks what a campaign must hold before it is stored: a name on
// one line, an audience, local-time and A/B options that can work, a From
// address with or without a display name, and a Reply-To that is a bare
// address when set. The caller fills the default From first. Whether the
// edition exists and is ready to send is delivery.CreateCampaign's check.
func Campaign(c *model.Campaign) error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return fieldError("name", "Give the campaign a name.")
	case !OneLine(c.Name):
		return fieldError("name", "The campaign name must fit on one line.")
	case len(c.ListIDs) == 0 && len(c.SegmentIDs) == 0:
		return fieldError("list_ids", "Choose at least one list or segment.")
	}
	if c.LocalTime != "" {
		if _, _, err := model.ParseLocalTime(c.LocalTime); err != nil {
			return fieldError("local_time", "%s", sentence("local send time: "+err.Error()))
		}
	}
	if err := model.CheckCampaignOptions(c); err != nil {
		return fieldError("ab_test", "%s", sentence(err.Error()))
	}
	if !OneLine(c.From) {
		return fieldError("from", "The From address must fit on one line.")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fieldError("from", "The From address should look like: The Courier <news@example.com>.")
	}
	if c.ReplyTo != "" {
		if _, err := address.Normalize(c.ReplyTo); err != nil {
			return fieldError("reply_to", "The reply-to address is not an email address (such as letters@example.com).")
		}
	}
	return nil
}
