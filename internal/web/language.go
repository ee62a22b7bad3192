package web

import (
	"cmp"
	"html/template"
	"net/http"

	"github.com/herald-news/herald/internal/i18n"
	"github.com/herald-news/herald/internal/model"
)

// forList returns the language of a page about list l: the list's, else
// the publication's.
func (s *Server) forList(r *http.Request, l *model.List) *i18n.Localizer {
	pub, _, _ := s.renderer.get(r.Context())
	return i18n.For(cmp.Or(l.Language, pub.Language))
}

// negotiate returns the language of a page about no one list (the home
// page, the archive of every list, errors): the reader's Accept-Language
// among the languages of the public lists and the publication's, else the
// publication's.
func (s *Server) negotiate(r *http.Request) *i18n.Localizer {
	pub, _, _ := s.renderer.get(r.Context())
	fallback := cmp.Or(pub.Language, i18n.Source)
	offered := []string{fallback}
	if lists, err := s.store.Lists(r.Context()); err == nil {
		for _, l := range lists {
			if l.Public && l.Language != "" {
				offered = append(offered, l.Language)
			}
		}
	}
	return i18n.For(i18n.Negotiate(r.Header.Get("Accept-Language"), offered, fallback))
}

// forReader returns the language of a page about a reader's lists (the
// preference centre): the reader's Accept-Language among those lists'
// languages, else the first list's, else the publication's.
func (s *Server) forReader(r *http.Request, lists []*model.List) *i18n.Localizer {
	pub, _, _ := s.renderer.get(r.Context())
	var offered []string
	for _, l := range lists {
		offered = append(offered, cmp.Or(l.Language, pub.Language, i18n.Source))
	}
	if len(offered) == 0 {
		return s.negotiate(r)
	}
	return i18n.For(i18n.Negotiate(r.Header.Get("Accept-Language"), offered, offered[0]))
}

// strongNames returns list names in <strong>, joined the language's way
// ("A, B").
func strongNames(l *i18n.Localizer, lists []*model.List) template.HTML {
	var names []string
	for _, li := range lists {
		names = append(names, "<strong>"+template.HTMLEscapeString(li.Name)+"</strong>")
	}
	return template.HTML(l.Join(names))
}
