package render_test

import (
	"bytes"
	"fmt"
	"testing"
)

func TestZZDump(t *testing.T) {
	r, e := setup(t)
	m, _ := r.Email(e)
	f := m.Freeze()
	for _, part := range [][]byte{f.HTML, f.Text} {
		lines := bytes.Split(part, []byte("\n"))
		tot := 0
		for _, l := range lines {
			if bytes.Contains(l, []byte(f.Prefix)) {
				fmt.Printf("len %d holes %d\n", len(l), bytes.Count(l, []byte(f.Prefix)))
				tot += len(l)
			}
		}
		hrefs := bytes.Count(part, []byte(`href="http`))
		fmt.Printf("size %d lines %d hole-line bytes %d hrefs %d links %d\n", len(part), len(lines), tot, hrefs, len(f.Links))
	}
	i := bytes.Index(f.Text, []byte(f.Prefix))
	fmt.Println("first hole in text at", i)
}
