package admin

import (
	"encoding/csv"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/settings"
)

// auditRow is one audit entry as the page shows it.
type auditRow struct {
	audit.Entry
	Lines []auditLine
}

// auditLine is one changed field: "status: sending → paused".
type auditLine struct{ Field, Before, After string }

func auditRowOf(e audit.Entry) auditRow {
	row := auditRow{Entry: e}
	for _, k := range slices.Sorted(maps.Keys(e.Changes)) {
		ch := e.Changes[k]
		row.Lines = append(row.Lines, auditLine{Field: k, Before: audit.Show(ch.Before), After: audit.Show(ch.After)})
	}
	return row
}

// auditFilter reads the page's filters; the error is written for people.
func auditFilter(q url.Values, now time.Time) (audit.Filter, error) {
	f := audit.Filter{Action: q.Get("action"), User: q.Get("user"), Object: q.Get("object")}
	var err error
	if f.Since, err = audit.ParseSince(q.Get("since"), now); err != nil {
		return f, err
	}
	if v := q.Get("until"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return f, errors.New("until must be a date such as 2026-03-01")
		}
		f.Until = t.AddDate(0, 0, 1) // the whole day
	}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return f, nil
}

func (a *Admin) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	data := map[string]any{"Q": q, "Actions": audit.Actions()}
	f, err := auditFilter(q, a.d.Now())
	if err != nil {
		data["FilterErr"] = err.Error()
	} else {
		f.Limit = 50
		es, err := a.d.Store.AuditEntries(r.Context(), f)
		if err != nil {
			return err
		}
		rows := make([]auditRow, 0, len(es))
		for _, e := range es {
			rows = append(rows, auditRowOf(e))
		}
		data["Rows"] = rows
		keep := url.Values{}
		for _, k := range []string{"user", "action", "object", "since", "until"} {
			if v := q.Get(k); v != "" {
				keep.Set(k, v)
			}
		}
		data["CSV"] = "/admin/audit.csv?" + keep.Encode()
		if f.BeforeID > 0 {
			data["Newest"] = "/admin/audit?" + keep.Encode()
		}
		if len(es) == f.Limit {
			keep.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
			data["Older"] = "?" + keep.Encode()
		}
	}
	users, err := a.d.Store.Users(r.Context())
	if err != nil {
		return err
	}
	data["Users"] = users
	if data["Retention"], err = settings.LoadAuditRetention(r.Context(), a.d.Store); err != nil {
		return err
	}
	a.page(w, r, http.StatusOK, "audit", a.lang(r).T("admin.audit.title"), "audit", data)
	return nil
}

// auditExportMax bounds one CSV export; narrow the filters for more.
const auditExportMax = 100000

func (a *Admin) auditCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r.URL.Query(), a.d.Now())
	if err != nil {
		return badRequest("%s", a.lang(r).T("admin.error.audit_filter", "Problem", err.Error()))
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="herald-audit-`+a.d.Now().UTC().Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	if err := cw.Write(audit.CSVHeader); err != nil {
		return err
	}
	f.Limit = 1000
	for n := 0; n < auditExportMax; {
		es, err := a.d.Store.AuditEntries(r.Context(), f)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := cw.Write(e.CSVRecord()); err != nil {
				return err
			}
		}
		n += len(es)
		if len(es) < f.Limit {
			break
		}
		f.BeforeID = es[len(es)-1].ID
	}
	cw.Flush()
	return cw.Error()
}

func (a *Admin) auditRetention(w http.ResponseWriter, r *http.Request) error {
	days, err := settings.ParseAuditRetention(r.FormValue("days"))
	if err == nil {
		err = settings.SaveAuditRetention(r.Context(), a.d.Store, days)
	}
	var se *settings.InvalidError
	if errors.As(err, &se) {
		return a.redirect(w, r, "/admin/audit", se.Msg, true)
	}
	if err != nil {
		return err
	}
	l := a.lang(r)
	msg := l.N("admin.audit.kept_days", days, "Count", strconv.Itoa(days))
	if days == 0 {
		msg = l.T("admin.audit.kept_forever")
	}
	return a.redirect(w, r, "/admin/audit", msg, false)
}
