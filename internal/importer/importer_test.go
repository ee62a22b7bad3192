package importer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
	"github.com/herald-news/herald/internal/store/storetest"
)

func newList(t testing.TB, s *store.Store, slug string) *model.List {
	t.Helper()
	l := &model.List{Slug: slug, Name: slug, OptIn: model.OptInSingle}
	if err := s.CreateList(context.Background(), l); err != nil {
		t.Fatalf("create list: %v", err)
	}
	return l
}

// run imports src into list l and returns the result and the rejects.
func run(t *testing.T, s *store.Store, l *model.List, src string, opt importer.Options) (importer.Result, []importer.Reject, error) {
	t.Helper()
	var rejects []importer.Reject
	opt.ListID = l.ID
	opt.OnReject = func(r importer.Reject) error { rejects = append(rejects, r); return nil }
	res, err := importer.Import(context.Background(), strings.NewReader(src), s, opt)
	return res, rejects, err
}

func subscriber(t *testing.T, s *store.Store, email string) *model.Subscriber {
	t.Helper()
	sub, err := s.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("subscriber %s: %v", email, err)
	}
	return sub
}

func subStatus(t *testing.T, s *store.Store, email string, listID int64) model.SubscriptionStatus {
	t.Helper()
	subs, err := s.Subscriptions(context.Background(), subscriber(t, s, email).ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range subs {
		if sp.ListID == listID {
			return sp.Status
		}
	}
	return ""
}

func TestBasicImportBOMAndAttributes(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		l := newList(t, s, "news")
		src := "\uFEFFEmail,Name,City,attributes\r\n" +
			"ann@example.com,Ann Lee,York,\"{\"\"plan\"\":\"\"paid\"\",\"\"seats\"\":3}\"\r\n" +
			"  Bob@Example.COM ,  Bob ,,\r\n" +
			"cy@bücher.example,\"Cy \"\"the\"\" Reader\",\"<b>&</b>\",\r\n"
		res, rejects, err := run(t, s, l, src, importer.Options{})
		if err != nil || len(rejects) != 0 {
			t.Fatalf("import: %v, rejects %+v", err, rejects)
		}
		if want := (importer.Result{Rows: 3, Imported: 3}); res != want {
			t.Fatalf("result = %+v, want %+v", res, want)
		}
		ann := subscriber(t, s, "ann@example.com")
		if ann.Name != "Ann Lee" || ann.Attributes["City"] != "York" || ann.Attributes["plan"] != "paid" || ann.Attributes["seats"] != float64(3) {
			t.Errorf("ann = %+v", ann)
		}
		bob := subscriber(t, s, "Bob@example.com")
		if bob.Name != "Bob" || len(bob.Attributes) != 0 {
			t.Errorf("bob = %+v", bob)
		}
		cy := subscriber(t, s, "cy@xn--bcher-kva.example")
		if cy.Name != `Cy "the" Reader` || cy.Attributes["City"] != "<b>&</b>" {
			t.Errorf("cy = %+v", cy)
		}
		if st := subStatus(t, s, "ann@example.com", l.ID); st != importer.DefaultStatus {
			t.Errorf("status = %s", st)
		}
	})
}

// TestPlatformExports imports the sample exports in testdata as they are.
func TestPlatformExports(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		type want struct {
			email, name string
			attrs       map[string]any
			status      model.SubscriptionStatus
		}
		cases := []struct {
			file     string
			imported int
			want     []want
		}{
			{"listmonk.csv", 2, []want{
				{"ada@example.org", "Ada Quill", map[string]any{"city": "Leeds", "plan": map[string]any{"tier": float64(2)}}, model.SubConfirmed},
				{"Bram@example.org", "Bram Holt", map[string]any{}, model.SubConfirmed},
			}},
			{"mailchimp.csv", 2, []want{
				{"dora@example.net", "Dora Penn", map[string]any{
					"Address": "12 Mill Lane, York", "MEMBER_RATING": "2", "OPTIN_TIME": "2023-01-05 09:12:44",
					"CONFIRM_TIME": "2023-01-05 09:15:02", "CONFIRM_IP": "203.0.113.7", "CC": "GB",
					"LAST_CHANGED": "2024-02-11 08:00:00", "LEID": "101", "EUID": "a1b2c3d4e5", "TAGS": `"Readers"`,
				}, model.SubConfirmed},
				{"eli@example.net", "Eli", map[string]any{
					"Birthday": "03/14", "MEMBER_RATING": "3", "OPTIN_TIME": "2023-02-01 10:00:00",
					"LAST_CHANGED": "2024-02-11 08:00:00", "LEID": "102", "EUID": "b2c3d4e5f6",
				}, model.SubConfirmed},
			}},
			{"mailchimp-unsubscribed.csv", 0, nil},
			{"mailchimp-cleaned.csv", 0, nil},
			{"substack.csv", 2, []want{
				{"gus@example.com", "", map[string]any{"active_subscription": "true", "expiry": "2026-12-01T00:00:00.000Z",
					"plan": "yearly", "first_payment_at": "2024-02-01T10:00:00.000Z"}, model.SubConfirmed},
				{"hana@example.com", "", map[string]any{"active_subscription": "false"}, model.SubConfirmed},
			}},
		}
		for _, c := range cases {
			l := newList(t, s, strings.TrimSuffix(c.file, ".csv"))
			res, rejects, err := run(t, s, l, testFile(t, c.file), importer.Options{})
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if res.Imported != c.imported || len(rejects) != 0 {
				t.Errorf("%s: %+v, rejects %+v, want %d imported and none rejected", c.file, res, rejects, c.imported)
			}
			for _, w := range c.want {
				sub := subscriber(t, s, w.email)
				if sub.Name != w.name || !reflect.DeepEqual(sub.Attributes, w.attrs) {
					t.Errorf("%s: %s = %q %#v\nwant %q %#v", c.file, w.email, sub.Name, sub.Attributes, w.name, w.attrs)
				}
				if st := subStatus(t, s, w.email, l.ID); st != w.status {
					t.Errorf("%s: %s status %s, want %s", c.file, w.email, st, w.status)
				}
			}
		}
	})
}

// testFile reads a file of testdata.
func testFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLeaversAreSuppressed imports exports that mark people as having
// left (listmonk's blocklisted, Mailchimp's unsubscribed and cleaned
// files, Substack's email_disabled, a generic unsubscribed_at column):
// they go on the suppression list, and are neither subscribed nor
// rejected.
func TestLeaversAreSuppressed(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cases := []struct {
			file, email string
			reason      model.SuppressionReason
			detail      string
		}{
			{"listmonk.csv", "cleo@example.org", model.SuppressManual, "blocklisted"},
			{"mailchimp-unsubscribed.csv", "fay@example.net", model.SuppressUnsubscribe, "UNSUB_TIME 2023-09-09 17:30:00"},
			{"mailchimp-cleaned.csv", "gil@example.net", model.SuppressHardBounce, "CLEAN_TIME 2024-01-20 06:00:00"},
			{"substack.csv", "ivo@example.com", model.SuppressUnsubscribe, "email_disabled"},
			{"dated.csv", "max@example.com", model.SuppressUnsubscribe, "unsubscribed_at 2023-03-03 08:00:00"},
		}
		for _, c := range cases {
			l := newList(t, s, strings.TrimSuffix(c.file, ".csv"))
			res, rejects, err := run(t, s, l, testFile(t, c.file), importer.Options{})
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if res.Suppressed != 1 || !strings.Contains(res.String(), "suppressed 1,") {
				t.Errorf("%s: %+v (%s), want one suppressed", c.file, res, res)
			}
			for _, r := range rejects {
				if strings.Contains(strings.Join(r.Fields, ","), c.email) {
					t.Errorf("%s: %s rejected (%s), want suppressed", c.file, c.email, r.Reason)
				}
			}
			sp, err := s.Suppression(ctx, c.email)
			if err != nil || sp.Reason != c.reason || !strings.Contains(sp.Detail, c.detail) {
				t.Errorf("%s: suppression of %s = %+v, %v; want %s mentioning %q", c.file, c.email, sp, err, c.reason, c.detail)
			}
			if _, err := s.SubscriberByEmail(ctx, c.email); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %s was subscribed: %v", c.file, c.email, err)
			}
		}
	})
}

// TestErasedAddressStaysOut erases a subscriber and imports the same file
// again: the erased address is reported on its line and stays out, the
// other rows import.
func TestErasedAddressStaysOut(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		l := newList(t, s, "gone")
		src := "email,name\nyan@example.com,Yan\nzoe@example.com,Zoe\nxi@example.com,Xi\n"
		if res, rejects, err := run(t, s, l, src, importer.Options{}); err != nil || res.Imported != 3 || len(rejects) != 0 {
			t.Fatalf("first import: %+v %+v %v", res, rejects, err)
		}
		if err := s.EraseSubscriber(ctx, "zoe@example.com"); err != nil {
			t.Fatal(err)
		}
		res, rejects, err := run(t, s, l, strings.Replace(src, "zoe@", "Zoe@", 1), importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if want := (importer.Result{Rows: 3, Updated: 2, Rejected: 1}); res != want {
			t.Errorf("second import = %+v, want %+v", res, want)
		}
		if len(rejects) != 1 || rejects[0].Line != 3 || !strings.Contains(rejects[0].Reason, "erased at its owner's request") {
			t.Errorf("rejects = %+v, want line 3 reported as erased", rejects)
		}
		for _, e := range []string{"zoe@example.com", "Zoe@example.com"} {
			if _, err := s.SubscriberByEmail(ctx, e); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s is back after the import: %v", e, err)
			}
		}
	})
}

func TestArchivedRowsAreNotImported(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "arch")
	res, rejects, err := run(t, s, l, "email,status\nann@example.com,archived\nbo@example.com,subscribed\n", importer.Options{})
	if err != nil || res.Imported != 1 || res.Suppressed != 0 || len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "archived") {
		t.Fatalf("%+v %+v %v", res, rejects, err)
	}
}

// TestSignupDates imports files that say when each person signed up: the
// subscription begins then, not at the import; a date Herald cannot read
// rejects its row with the line and why, and the good rows import.
func TestSignupDates(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := func(v string) time.Time {
			t.Helper()
			d, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		before := time.Now().Add(-time.Second)
		cases := []struct {
			file    string
			starts  map[string]time.Time // zero: the import's time
			rejects map[int]string       // line: part of the reason
		}{
			{"listmonk.csv", map[string]time.Time{"ada@example.org": at("2024-03-01T10:00:00.123Z"), "Bram@example.org": at("2024-03-02T10:00:00Z")}, nil},
			{"mailchimp.csv", map[string]time.Time{"dora@example.net": at("2023-01-05T09:12:44Z"), "eli@example.net": at("2023-02-01T10:00:00Z")}, nil},
			{"substack.csv", map[string]time.Time{"gus@example.com": at("2024-02-01T10:00:00Z"), "hana@example.com": at("2024-01-15T10:00:00Z")}, nil},
			{"dated.csv", map[string]time.Time{"jo@example.com": at("2019-07-01T00:00:00Z"), "kit@example.com": at("2020-02-29T17:30:00Z"), "ola@example.com": {}},
				map[int]string{4: `subscribed_at "31/12/2023" is not a date`, 6: `subscribed_at "2999-01-01" is in the future`}},
		}
		for _, c := range cases {
			l := newList(t, s, strings.TrimSuffix(c.file, ".csv"))
			_, rejects, err := run(t, s, l, testFile(t, c.file), importer.Options{})
			if err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if len(rejects) != len(c.rejects) {
				t.Errorf("%s: rejects %+v, want lines %v", c.file, rejects, c.rejects)
			}
			for _, r := range rejects {
				if want, ok := c.rejects[r.Line]; !ok || !strings.Contains(r.Reason, want) {
					t.Errorf("%s: line %d rejected for %q, want %q", c.file, r.Line, r.Reason, want)
				}
			}
			for email, want := range c.starts {
				sub := subscriber(t, s, email)
				hist, err := s.SubscriptionHistory(ctx, sub.ID)
				if err != nil || len(hist) != 1 {
					t.Fatalf("%s: history of %s = %+v, %v", c.file, email, hist, err)
				}
				got := hist[0].At
				if want.IsZero() && got.Before(before) || !want.IsZero() && !got.Equal(want) {
					t.Errorf("%s: %s subscribed at %v, want %v (zero: the import's time)", c.file, email, got, want)
				}
			}
		}
	})
}

func TestStatusColumnAndForcedStatus(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		src := "email,status\na@example.com,confirmed\nb@example.com,unconfirmed\nc@example.com,\nd@example.com,maybe\n"
		l := newList(t, s, "a")
		res, rejects, err := run(t, s, l, src, importer.Options{})
		if err != nil || res.Imported != 3 || len(rejects) != 1 || rejects[0].Line != 5 || !strings.Contains(rejects[0].Reason, `unknown status "maybe"`) {
			t.Fatalf("%+v %+v %v", res, rejects, err)
		}
		for email, want := range map[string]model.SubscriptionStatus{"a@example.com": model.SubConfirmed, "b@example.com": model.SubUnconfirmed, "c@example.com": model.SubConfirmed} {
			if st := subStatus(t, s, email, l.ID); st != want {
				t.Errorf("%s: %s, want %s", email, st, want)
			}
		}
		l2 := newList(t, s, "b")
		if _, _, err := run(t, s, l2, src, importer.Options{Status: model.SubUnconfirmed}); err != nil {
			t.Fatal(err)
		}
		if st := subStatus(t, s, "a@example.com", l2.ID); st != model.SubUnconfirmed {
			t.Errorf("forced status ignored: %s", st)
		}
	})
}

func TestModes(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		l := newList(t, s, "m")
		first := "email,name\na@example.com,A\nb@example.com,B\n"
		if res, _, err := run(t, s, l, first, importer.Options{}); err != nil || res.Imported != 2 {
			t.Fatalf("%+v %v", res, err)
		}
		second := "email,name\na@example.com,A2\nb@example.com,B2\nc@example.com,C\n"
		res, _, err := run(t, s, l, second, importer.Options{Mode: store.ImportSkipExisting})
		if want := (importer.Result{Rows: 3, Imported: 1, Skipped: 2}); err != nil || res != want {
			t.Fatalf("skip-existing: %+v %v, want %+v", res, err, want)
		}
		if a := subscriber(t, s, "a@example.com"); a.Name != "A" {
			t.Errorf("skip-existing renamed: %+v", a)
		}
		res, _, err = run(t, s, l, second, importer.Options{Mode: store.ImportUpsert})
		if want := (importer.Result{Rows: 3, Updated: 3}); err != nil || res != want {
			t.Fatalf("upsert: %+v %v, want %+v", res, err, want)
		}
		if a := subscriber(t, s, "a@example.com"); a.Name != "A2" {
			t.Errorf("upsert did not rename: %+v", a)
		}
	})
}

func TestHeaderErrors(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "h")
	for src, want := range map[string]string{
		"Name,Phone\nAnn,1\n":         `no email column: the header row needs a column named email (or "Email Address"); the columns found are "Name", "Phone"`,
		"email,Email Address\n":       `two email columns`,
		"email,city,city\n":           `columns 2 and 3 are both named "city"`,
		"":                            "the file is empty",
		"email,n\xffame\nx@y.com,1\n": "not valid UTF-8",
	} {
		_, _, err := run(t, s, l, src, importer.Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
	_, _, err := run(t, s, l, "Name\n", importer.Options{})
	if !errors.Is(err, importer.ErrNoEmailColumn) {
		t.Errorf("missing email: %v", err)
	}
}

func TestOversizedRecord(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "big")
	src := "email,name\na@example.com,A\nb@example.com,\"never closed " + strings.Repeat("x", 300<<10) + "\n"
	res, rejects, err := run(t, s, l, src, importer.Options{MaxRecordBytes: 100 << 10})
	if !errors.Is(err, importer.ErrRecordTooLarge) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error %v", err)
	}
	if res.Imported != 1 || len(rejects) != 0 {
		t.Fatalf("rows before the bad record: %+v %+v", res, rejects)
	}
}

// TestRejectsAndLineNumbers builds a 100,000-row file with a few hundred
// bad rows of every kind, among good rows with quoted newlines that shift
// the physical line numbers, and checks every reject's line and reason.
func TestRejectsAndLineNumbers(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		src, want, good := BadFile(100_000)
		l := newList(t, s, "big")
		res, rejects, err := run(t, s, l, src, importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != good || res.Rejected != len(want) || res.Rows != 100_000 {
			t.Fatalf("result %+v, want %d imported, %d rejected", res, good, len(want))
		}
		if len(rejects) != len(want) {
			t.Fatalf("%d rejects, want %d", len(rejects), len(want))
		}
		for i, r := range rejects {
			if r.Line != want[i].Line || !strings.Contains(r.Reason, want[i].Reason) {
				t.Fatalf("reject %d = line %d %q, want line %d %q", i, r.Line, r.Reason, want[i].Line, want[i].Reason)
			}
		}
		n, err := s.CountSubscribers(context.Background(), store.SubscriberFilter{ListID: l.ID})
		if err != nil || n != int64(good) {
			t.Fatalf("count = %d, %v", n, err)
		}
	})
}

// BadFile writes a CSV of n data rows; every 300th row is bad in one of
// several ways, and every 97th good row has a name with a line break. It
// returns the file, the rejects expected (line and a piece of the reason)
// and the number of good rows.
func BadFile(n int) (string, []importer.Reject, int) {
	var b strings.Builder
	var want []importer.Reject
	b.WriteString("email,name,plan\n")
	line, good, prevStart := 2, 0, 0
	for i := 0; i < n; i++ {
		start := line
		row := fmt.Sprintf("user%d@example.com,User %d,free\n", i, i)
		reason := ""
		if i%300 == 150 {
			switch (i / 300) % 7 {
			case 0:
				row, reason = fmt.Sprintf("user%d.example.com,No At,free\n", i), "has no @"
			case 1:
				row, reason = fmt.Sprintf("user%d@example.com,Too,few,fields,free\n", i), "the row has 5 fields but the header has 3"
			case 2:
				row, reason = fmt.Sprintf("user%d@example.com\n", i), "the row has 1 fields but the header has 3"
			case 3:
				row, reason = fmt.Sprintf("user%d@example.com,Bad \xe9 Latin,free\n", i), "column 2 (name) is not valid UTF-8"
			case 4:
				row, reason = fmt.Sprintf("user%d@example.com,User %d,free\n", i-1, i), fmt.Sprintf("duplicate of line %d", prevStart)
			case 5:
				row, reason = fmt.Sprintf("user%d@example.com,Say \"hi\",free\n", i), `a quote (") inside an unquoted field`
			case 6:
				row, reason = fmt.Sprintf("\"user%d@exa\nmple.com\",\"Two\nLines\",free\n", i), "line break"
			}
		} else if i%97 == 0 {
			row = fmt.Sprintf("user%d@example.com,\"User\n%d\",\"free\r\nplan\"\n", i, i)
		}
		if reason == "" {
			good++
		} else {
			want = append(want, importer.Reject{Line: start, Reason: reason})
		}
		b.WriteString(row)
		line += strings.Count(row, "\n")
		prevStart = start
	}
	return b.String(), want, good
}

// TestRoundTrip exports a list, imports the export into another list and a
// fresh database, and checks that the exports match.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		src := "email,name,status,city,attributes\n" +
			"ann@example.com,\"Lee, Ann\",confirmed,York,\"{\"\"n\"\":1.50,\"\"deep\"\":{\"\"a\"\":[1,2]},\"\"html\"\":\"\"<i>&amp;</i>\"\"}\"\n" +
			"bo@example.com,\"Bo \"\"B\"\"\nTwo\",unconfirmed,,\n" +
			"cy@example.com,Çy Ünal 日本,confirmed,\"tab\there\",\n"
		a := newList(t, s, "a")
		if res, rejects, err := run(t, s, a, src, importer.Options{}); err != nil || res.Imported != 3 || len(rejects) > 0 {
			t.Fatalf("%+v %+v %v", res, rejects, err)
		}
		export := func(s *store.Store, l *model.List) string {
			var buf bytes.Buffer
			n, err := importer.Export(ctx, &buf, s, store.ExportFilter{ListID: l.ID})
			if err != nil || n != 3 {
				t.Fatalf("export %d rows: %v", n, err)
			}
			return buf.String()
		}
		first := export(s, a)

		b := newList(t, s, "b")
		if res, rejects, err := run(t, s, b, first, importer.Options{}); err != nil || res.Updated != 3 || len(rejects) > 0 {
			t.Fatalf("reimport: %+v %+v %v", res, rejects, err)
		}
		if second := export(s, b); second != first {
			t.Fatalf("round trip changed the export:\n%s\n---\n%s", first, second)
		}

		// Into a fresh database everything survives, the signup time too.
		fresh := storetest.SQLite(t)
		if s.Kind() != fresh.Kind() {
			fresh = storetest.Postgres(t)
		}
		c := newList(t, fresh, "c")
		if res, rejects, err := run(t, fresh, c, first, importer.Options{}); err != nil || res.Imported != 3 || len(rejects) > 0 {
			t.Fatalf("fresh import: %+v %+v %v", res, rejects, err)
		}
		if got := export(fresh, c); got != first {
			t.Fatalf("fresh round trip:\n%s\nwant\n%s", got, first)
		}
	})
}

// discard is a Sink that keeps nothing, to measure parsing alone.
type discard struct{}

func (discard) ImportBatch(_ context.Context, rows []store.ImportRow, _ store.ImportOptions) (store.ImportResult, error) {
	return store.ImportResult{Imported: len(rows)}, nil
}

func (discard) SuppressBatch(context.Context, []store.SuppressRow) error { return nil }

func benchFile(n int) string {
	var b strings.Builder
	b.WriteString("email,name,plan,city\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "reader%d@example%d.com,Reader %d,free,York\n", i, i%100, i)
	}
	return b.String()
}

// BenchmarkParse measures reading, validating and deduplicating rows
// without a database.
func BenchmarkParse(b *testing.B) {
	src := benchFile(100_000)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		res, err := importer.Import(context.Background(), strings.NewReader(src), discard{}, importer.Options{ListID: 1})
		if err != nil || res.Imported != 100_000 {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImportSQLite imports 50,000 rows into a fresh SQLite database
// per iteration.
func BenchmarkImportSQLite(b *testing.B) {
	const rows = 50_000
	src := benchFile(rows)
	var total float64
	for b.Loop() {
		b.StopTimer()
		s := storetest.SQLite(b)
		l := newList(b, s, "bench")
		b.StartTimer()
		res, err := importer.Import(context.Background(), strings.NewReader(src), s, importer.Options{ListID: l.ID})
		if err != nil || res.Imported != rows {
			b.Fatal(res, err)
		}
		total += rows
	}
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
}

func TestUnclosedQuoteStopsTheImportLoudly(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "q")
	src := "email,name\nbefore@example.com,Before\nbroken@example.com,\"Bob\nafter@example.com,Carol\nlast@example.com,Dan\n"
	_, _, err := run(t, s, l, src, importer.Options{})
	if !errors.Is(err, importer.ErrUnclosedQuote) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("error %v, want ErrUnclosedQuote naming line 3", err)
	}
	subscriber(t, s, "before@example.com") // the row before the quote is in
}

func TestNamesAreFoldedOntoOneLine(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "n")
	if _, _, err := run(t, s, l, "email,name\nbob@example.com,\"Bob\n  Smith\"\n", importer.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := subscriber(t, s, "bob@example.com").Name; got != "Bob Smith" {
		t.Fatalf("name %q, want %q", got, "Bob Smith")
	}
}

// TestExportNeutralisesFormulas: a name typed into a public form as a
// spreadsheet formula comes out of an export as text (OWASP CSV
// injection), and goes back in as it was typed.
func TestExportNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	ctx := context.Background()
	a := newList(t, s, "a")
	src := "email,name\n" +
		"eve@example.com,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"Click\"\")\"\n" +
		"max@example.com,@SUM(A1)\n" +
		"neg@example.com,-5+3\n"
	if res, rejects, err := run(t, s, a, src, importer.Options{}); err != nil || res.Imported != 3 || len(rejects) > 0 {
		t.Fatalf("%+v %+v %v", res, rejects, err)
	}
	var buf bytes.Buffer
	if _, err := importer.Export(ctx, &buf, s, store.ExportFilter{ListID: a.ID}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"'=HYPERLINK(""http://evil.example/"",""Click"")"`, ",'@SUM(A1),", ",'-5+3,"} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %s:\n%s", want, out)
		}
	}
	b := newList(t, s, "b")
	if res, rejects, err := run(t, s, b, out, importer.Options{}); err != nil || res.Updated != 3 || len(rejects) > 0 {
		t.Fatalf("reimport: %+v %+v %v", res, rejects, err)
	}
	if got := subscriber(t, s, "max@example.com").Name; got != "@SUM(A1)" {
		t.Errorf("name after the round trip: %q", got)
	}
}

// TestSeveralWritersImportAsOne: batches written side by side (as on
// PostgreSQL) import a file exactly as one writer does: the same counts,
// the same rejects with the same lines (bad rows, duplicates, an erased
// address), the same suppressions, statuses and signup dates, and the
// progress reported after each batch only grows.
func TestSeveralWritersImportAsOne(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var b strings.Builder
		b.WriteString("email,name,status,created_at\n")
		for i := range 3000 {
			status := "subscribed"
			switch {
			case i%50 == 7:
				status = "unsubscribed"
			case i%3 == 1:
				status = "unconfirmed"
			}
			email := fmt.Sprintf("s%04d@example.com", i)
			switch {
			case i%100 == 42:
				email = "not an address"
			case i%250 == 99:
				email = fmt.Sprintf("s%04d@example.com", i-1) // a duplicate
			case i == 1234:
				email = "gone@example.com"
			}
			fmt.Fprintf(&b, "%s,Reader %d,%s,2024-03-%02d\n", email, i, status, 1+i%28)
		}
		src := b.String()
		imp := func(s *store.Store, writers int) (importer.Result, []importer.Reject, []importer.Result) {
			t.Helper()
			if _, err := s.ImportBatch(ctx, []store.ImportRow{{Line: 2, Email: "gone@example.com"}},
				store.ImportOptions{ListID: newList(t, s, "gone").ID, Status: model.SubConfirmed, Mode: store.ImportUpsert}); err != nil {
				t.Fatal(err)
			}
			if err := s.EraseSubscriber(ctx, "gone@example.com"); err != nil {
				t.Fatal(err)
			}
			var progress []importer.Result
			res, rejects, err := run(t, s, newList(t, s, "side"), src, importer.Options{BatchSize: 97, Writers: writers,
				OnBatch: func(r importer.Result) { progress = append(progress, r) }})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(rejects, func(a, b importer.Reject) int { return a.Line - b.Line })
			return res, rejects, progress
		}
		other := storetest.SQLite(t)
		if s.Kind() == "postgres" {
			other = storetest.Postgres(t)
		}
		want, wantRejects, _ := imp(other, 1)
		got, rejects, progress := imp(s, 4)
		if got != want || want.Imported == 0 || want.Suppressed == 0 || want.Rejected < 30 {
			t.Errorf("four writers: %+v\none writer:   %+v", got, want)
		}
		if !reflect.DeepEqual(rejects, wantRejects) {
			t.Errorf("four writers rejected %+v\none writer rejected   %+v", rejects, wantRejects)
		}
		for i := 1; i < len(progress); i++ {
			if p, q := progress[i-1], progress[i]; q.Imported < p.Imported || q.Suppressed < p.Suppressed || q.Rejected < p.Rejected {
				t.Errorf("progress went back: %+v after %+v", q, p)
			}
		}
		if last := progress[len(progress)-1]; last.Imported != got.Imported || last.Suppressed != got.Suppressed {
			t.Errorf("last progress %+v, result %+v", last, got)
		}
		for _, email := range []string{"s0001@example.com", "s0002@example.com", "s2999@example.com"} {
			l, err := s.ListBySlug(ctx, "side")
			if err != nil {
				t.Fatal(err)
			}
			ol, err := other.ListBySlug(ctx, "side")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := subStatus(t, s, email, l.ID), subStatus(t, other, email, ol.ID); got != want {
				t.Errorf("%s: %s with four writers, %s with one", email, got, want)
			}
			if got, want := subscriber(t, s, email).CreatedAt, subscriber(t, other, email).CreatedAt; !got.Equal(want) {
				t.Errorf("%s created %v with four writers, %v with one", email, got, want)
			}
		}
		if _, err := s.Suppression(ctx, "s0007@example.com"); err != nil {
			t.Errorf("a leaver is not suppressed: %v", err)
		}
	})
}
