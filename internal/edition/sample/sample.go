// Package sample holds Herald's own sample edition and the invented
// publication it belongs to, embedded in the binary. Tests, golden files, the
// documentation and `herald bench send` all use it, so it is a realistic
// evening briefing in size and shape: a lead with a hero photo, credit and
// byline, three commentary cards, four briefs and five picks.
package sample

import (
	_ "embed"
	"fmt"

	"github.com/herald-news/herald/internal/edition"
	"github.com/herald-news/herald/internal/model"
)

//go:embed briefing.md
var briefing []byte

// Source returns the sample edition file, in canonical format. The caller
// owns the returned slice.
func Source() []byte {
	return append([]byte(nil), briefing...)
}

// Edition parses the sample edition. It fails only if the embedded file is
// broken, which the package's tests rule out.
func Edition() (*model.Edition, error) {
	e, err := edition.Parse(briefing)
	if err != nil {
		return nil, fmt.Errorf("sample edition: %w", err)
	}
	return e, nil
}

// Publication returns the invented publication the sample edition belongs to.
func Publication() model.Publication {
	return model.Publication{
		Name:          "Northgate Courier",
		SiteURL:       "https://northgate-courier.example",
		LogoURL:       "https://media.northgate-courier.example/brand/logo-wordmark.png",
		Language:      "en-GB",
		Colors:        model.Colors{Accent: "#9c2f1f", Text: "#1f2328", Background: "#ffffff"},
		PostalAddress: "Northgate Courier, 14 Quay Street, Port Alder PA1 4QS",
		AskFeedback:   true,
		Sections: []model.SectionDefault{
			{Kind: model.KindLead, Title: ""},
			{Kind: model.KindCards, Title: "Comment"},
			{Kind: model.KindBriefs, Title: "Also know"},
			{Kind: model.KindPicks, Title: "Five things"},
		},
	}
}
