// Package feedback holds the rules of readers' feedback: the ratings a
// reader can give an edition or one of its sections, the reasons for
// leaving a reader can pick, and how long a comment may be. The public
// web, the admin and the exports show what it allows; the store keeps it.
//
// Contract: Check is the one place an answer is validated; a bad answer
// gets a *Problem a reader understands and nothing is stored.
package feedback

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/herald-news/herald/internal/i18n"
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

// Problem is why Check refused an answer, in words a reader understands:
// a message of Herald's catalogs (internal/i18n) and its arguments, given
// as pairs ("Max", 2000), so each front door says it in the reader's
// language. Integer arguments are numbers to be written the language's way.
type Problem struct {
	Key  string
	Args []any
}

// Error says the problem in English, for logs.
func (p *Problem) Error() string {
	return "feedback not recorded: " + i18n.For(i18n.Source).T(p.Key, p.Args...)
}

func problem(key string, args ...any) error { return &Problem{Key: key, Args: args} }

// Check validates an answer and tidies its comment (spaces trimmed).
func Check(f *model.Feedback) error {
	f.Comment = strings.TrimSpace(f.Comment)
	if !utf8.ValidString(f.Comment) {
		return problem("feedback.problem.unreadable")
	}
	if n := utf8.RuneCountInString(f.Comment); n > MaxComment {
		return problem("feedback.problem.too_long", "Count", n, "Max", MaxComment)
	}
	switch f.Kind {
	case model.FeedbackBriefing:
		f.Section, f.Reason = "", ""
	case model.FeedbackSection:
		if !slices.Contains(Sections, f.Section) {
			return problem("feedback.problem.section")
		}
		f.Reason = ""
	case model.FeedbackLeaving:
		if f.Reason != "" && !slices.Contains(Reasons, f.Reason) {
			return problem("feedback.problem.reason")
		}
		if f.Reason == "" && f.Comment == "" {
			return problem("feedback.problem.empty")
		}
		f.Section, f.Rating = "", 0
		return nil
	default:
		return problem("feedback.problem.kind")
	}
	if f.Rating < Poor || f.Rating > Great {
		return problem("feedback.problem.rating")
	}
	return nil
}
