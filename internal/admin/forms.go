package admin

import (
	"html/template"
	"slices"
	"strings"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/validator"
)

// How a form that comes back with problems reads, on every admin page:
//
//   - the handler renders the page again (status 422) with every value as
//     typed and its problems by field: problems(l, err) turns a domain
//     check's *validator.Error or validator.Errors into fieldErrors, each
//     message in the user's language;
//   - the page opens with a summary (template "form-summary", built by the
//     "summary" function with the form's fields in their order): role
//     alert, focused when the page loads, one link per problem to its
//     field;
//   - each field says its own problem beside it (template "field-error"
//     with the "problem" function) and is marked invalid and described by
//     it (the "invalid" function in the field's tag).
//
// A field's element id is its name, so the summary's links reach it.

// fieldErrors are a form's problems by field name, each shown beside its
// field when the form comes back.
type fieldErrors map[string]string

// problems returns every field a domain check refused (a *validator.Error
// or validator.Errors in err) with its message in l's language (nil:
// English), the first problem of a field when it has several; nil when err
// holds none.
func problems(l *i18n.Localizer, err error) fieldErrors {
	all := validator.All(err)
	if len(all) == 0 {
		return nil
	}
	out := fieldErrors{}
	for _, ve := range all {
		if _, ok := out[ve.Field]; !ok {
			out[ve.Field] = ve.In(l)
		}
	}
	return out
}

// fieldProblem is one problem of a form: its field and its message.
type fieldProblem struct{ Field, Message string }

// formSummary is what the "form-summary" template shows.
type formSummary struct {
	L        *i18n.Localizer
	Problems []fieldProblem
}

// summary lists errs for the summary above a form: first the fields in
// order (the form's own order), then any other, by name.
func summary(l *i18n.Localizer, errs fieldErrors, order ...string) formSummary {
	s := formSummary{L: l}
	for _, f := range order {
		if m, ok := errs[f]; ok {
			s.Problems = append(s.Problems, fieldProblem{f, m})
		}
	}
	var rest []string
	for f := range errs {
		if !slices.Contains(order, f) {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		s.Problems = append(s.Problems, fieldProblem{f, errs[f]})
	}
	return s
}

// problem is one field's problem, for the "field-error" template (an
// empty Message shows nothing).
func problem(errs fieldErrors, field string) fieldProblem {
	return fieldProblem{Field: field, Message: errs[field]}
}

// invalid returns the attributes that tie a field with a problem to its
// message: aria-invalid and aria-describedby (nothing without a problem).
func invalid(errs fieldErrors, field string) template.HTMLAttr {
	if errs[field] == "" {
		return ""
	}
	return template.HTMLAttr(`aria-invalid="true" aria-describedby="` + template.HTMLEscapeString(errorID(field)) + `"`)
}

// errorID is the element id of a field's message.
func errorID(field string) string { return field + "-error" }

// ID returns the element id of the problem's message.
func (p fieldProblem) ID() string { return errorID(p.Field) }

// sentence makes a clause from elsewhere ("a password needs …") a
// sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
