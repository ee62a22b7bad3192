package importer_test

import (
	"testing"

	"github.com/herald-news/herald/internal/importer"
	"github.com/herald-news/herald/internal/store/storetest"
)

// TestTimeZoneAttributeChecked: a tz that is not an IANA zone name rejects
// its row with the reason, in a tz column and in an attributes column.
func TestTimeZoneAttributeChecked(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	l := newList(t, s, "news")
	src := "email,tz,attributes\n" +
		"ann@example.com,Europe/London,\n" +
		"bob@example.com,Mars/Olympus,\n" +
		"cy@example.com,,\"{\"\"tz\"\":\"\"Moon/Base\"\"}\"\n" +
		"di@example.com,,\"{\"\"tz\"\":\"\"Asia/Tokyo\"\"}\"\n"
	res, rejects, err := run(t, s, l, src, importer.Options{})
	if err != nil || res.Imported != 2 || len(rejects) != 2 {
		t.Fatalf("import = %+v, %+v, %v", res, rejects, err)
	}
	if r := rejects[0]; r.Line != 3 || r.Reason != `attribute tz: "Mars/Olympus" is not a time zone name such as Europe/London` {
		t.Errorf("first reject %+v", r)
	}
	if r := rejects[1]; r.Line != 4 || r.Reason != `attribute tz: "Moon/Base" is not a time zone name such as Europe/London` {
		t.Errorf("second reject %+v", r)
	}
	if ann := subscriber(t, s, "ann@example.com"); ann.Attributes["tz"] != "Europe/London" {
		t.Errorf("ann = %+v", ann)
	}
	if di := subscriber(t, s, "di@example.com"); di.Attributes["tz"] != "Asia/Tokyo" {
		t.Errorf("di = %+v", di)
	}
}
