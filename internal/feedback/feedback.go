// Package feedback holds the rules of readers' feedback: the ratings a
// reader can give an edition or one of its sections, the reasons for
// leaving a reader can pick, and how long a comment may be. The public
// web, the admin and the exports show what it allows; the store keeps it.
//
// Contract: Check is the one place an answer is validated; a bad answer
// gets a *Problem a reader understands and nothing is stored.
package feedback

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/model"
)

// Ratings, worst first.
const (
	Poor  = 1
	Fine  = 2
	Great = 3
)

// Sections a reader may rate: the edition's kinds of section.
var Sections = []string{"lead", "cards", "briefs", "picks"}

// Reasons a reader may give for leaving.
var Reasons = []string{"too-many", "not-relevant", "too-long", "other"}

// MaxComment is the longest comment kept, in characters.
const MaxComment = 2000

// Problem is why Check refused an answer, in words a reader understands.
type Problem struct{ Reason string }

func (p *Problem) Error() string { return "feedback not recorded: " + p.Reason }

func problem(format string, args ...any) error { return &Problem{Reason: fmt.Sprintf(format, args...)} }

// Check validates an answer and tidies its comment (spaces trimmed).
func Check(f *model.Feedback) error {
	f.Comment = strings.TrimSpace(f.Comment)
	if !utf8.ValidString(f.Comment) {
		return problem("the comment is not readable text")
	}
	if n := utf8.RuneCountInString(f.Comment); n > MaxComment {
		return problem("the comment has %d characters; at most %d fit", n, MaxComment)
	}
	switch f.Kind {
	case model.FeedbackBriefing:
		f.Section, f.Reason = "", ""
	case model.FeedbackSection:
		if !slices.Contains(Sections, f.Section) {
			return problem("there is no section %q", f.Section)
		}
		f.Reason = ""
	case model.FeedbackLeaving:
		if f.Reason != "" && !slices.Contains(Reasons, f.Reason) {
			return problem("%q is not one of the reasons offered", f.Reason)
		}
		if f.Reason == "" && f.Comment == "" {
			return problem("choose a reason or write a few words")
		}
		f.Section, f.Rating = "", 0
		return nil
	default:
		return problem("unknown kind %q", f.Kind)
	}
	if f.Rating < Poor || f.Rating > Great {
		return problem("choose one of the three ratings")
	}
	return nil
}
