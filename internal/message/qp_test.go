package message

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// stdlibQP is what go-message writes for a quoted-printable part.
func stdlibQP(p []byte) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

// TestAppendQPMatchesStdlib: appendQP writes what mime/quotedprintable
// writes, for edge cases and for random text built from the bytes that
// matter to the encoder (line breaks of every kind, trailing whitespace,
// "=", bytes above ASCII, lines far over 76).
func TestAppendQPMatchesStdlib(t *testing.T) {
	cases := []string{
		"", "a", " ", "\t", "=", "a \r\n", "a\t\n", "a \r", "\r\n\r\n", "\n\r", "\r\r\n",
		strings.Repeat("x", 75), strings.Repeat("x", 76), strings.Repeat("x", 77), strings.Repeat("x", 74) + "==",
		strings.Repeat("x", 73) + "é", strings.Repeat("x", 74) + " \r\n", strings.Repeat("y", 75) + " ",
		"caf\u00e9 \u201cagain\u201d\r\n", "\r\u00e9\nx",
	}
	alphabet := []byte("ab .=\t\r\n\xc3\xa9~!<>\"")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := rng.IntN(400)
		b := make([]byte, n)
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(rng.IntN(26))
			}
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		prefix := []byte("kept:")
		got := appendQP(prefix, []byte(c))
		if want := stdlibQP([]byte(c)); !bytes.Equal(got[len(prefix):], want) || string(got[:len(prefix)]) != "kept:" {
			t.Fatalf("%q:\n got %q\nwant %q", c, got[len(prefix):], want)
		}
	}
}

// referenceBuild is how build wrote a message before appendQP: go-message's
// writer with mime/quotedprintable for each part, boundary given.
func (t *Template) referenceBuild(m *Message, boundary string) ([]byte, error) {
	subject := t.subject
	to, err := formatAddress("To", m.To)
	if err != nil {
		return nil, err
	}
	unsub, err := t.listUnsubscribe(m)
	if err != nil {
		return nil, err
	}
	extras, err := formatExtra(m.Headers)
	if err != nil {
		return nil, err
	}
	var h gomail.Header
	h.SetContentType("multipart/alternative", map[string]string{})
	h.Set("MIME-Version", "1.0")
	for i := len(extras) - 1; i >= 0; i-- {
		h.Add(extras[i].Key, extras[i].Value)
	}
	h.Set("List-Unsubscribe", unsub)
	h.SetMessageID(m.MessageID)
	h.Set("Date", m.Date.Format(time.RFC1123Z))
	h.Set("Subject", subject)
	h.Set("To", to)
	// What gomessage.CreateWriter did with the random boundary it chose.
	h.SetContentType("multipart/alternative", map[string]string{"boundary": boundary})
	w := &appendWriter{b: append([]byte(nil), t.common...)}
	mw, err := gomessage.CreateWriter(w, h.Header)
	if err != nil {
		return nil, err
	}
	for _, part := range []struct {
		h    gomessage.Header
		body []byte
	}{{t.textHeader, m.Text}, {t.htmlHeader, m.HTML}} {
		pw, err := mw.CreatePart(part.h)
		if err != nil {
			return nil, err
		}
		pw.Write(part.body)
		pw.Close()
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return w.b, nil
}

// TestBuildMatchesGoMessageForAThousandReaders: messages built with
// appendQP are byte for byte those go-message's writer built, for a
// thousand readers whose personal spans differ (names with accents and
// quotes, links, a line starting with a dot, trailing spaces).
func TestBuildMatchesGoMessageForAThousandReaders(t *testing.T) {
	tpl, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	text, html := benchBodies()
	var buf []byte
	for i := range 1000 {
		m := testMessage()
		name := fmt.Sprintf("Reader %d", i)
		if i%3 == 0 {
			name = fmt.Sprintf("Zoë \"Ed\" O'Neil %d", i)
		}
		m.To = Address{Name: name, Email: fmt.Sprintf("reader%04d@readers.example", i)}
		m.MessageID = ID(17, int64(i), "ledger.example")
		m.UnsubscribeURL = fmt.Sprintf("https://ledger.example/u/one-click?t=tok%04d", i)
		personal := fmt.Sprintf("Dear %s, \n.your link: https://ledger.example/r/17/%d/9?u=%x \t\n", name, i, i*7919)
		m.Text = append([]byte(personal), text...)
		m.HTML = append([]byte("<p>Dear "+strings.ReplaceAll(name, "\"", "&quot;")+",</p>"+strings.Repeat("=", i%80)+"\r\n"), html...)
		buf, err = tpl.Append(buf[:0], m)
		if err != nil {
			t.Fatal(err)
		}
		boundary := boundaryOf(t, buf)
		want, err := tpl.referenceBuild(m, boundary)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("reader %d: the messages differ\n got %q\nwant %q", i, firstDiff(buf, want), firstDiff(want, buf))
		}
	}
}

func boundaryOf(t *testing.T, msg []byte) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(msg), "boundary=")
	if !ok {
		t.Fatal("no boundary")
	}
	b, _, _ := strings.Cut(rest, "\r\n")
	return strings.Trim(b, `"`)
}

// firstDiff is a from where it first differs from b, for a readable
// failure.
func firstDiff(a, b []byte) []byte {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(0, i-40):min(len(a), i+80)]
}
