package store

import (
	"reflect"
	"testing"
)

func TestRebind(t *testing.T) {
	cases := []struct {
		in, out string
		order   []int
	}{
		{"SELECT 1", "SELECT 1", nil},
		{"SELECT a FROM t WHERE x = $1 AND y = $2", "SELECT a FROM t WHERE x = ? AND y = ?", []int{0, 1}},
		{"VALUES ($3, $1, $3)", "VALUES (?, ?, ?)", []int{2, 0, 2}},
		{"SELECT '$1', \"$2\" WHERE a = $12", "SELECT '$1', \"$2\" WHERE a = ?", []int{11}},
		{"SELECT $ FROM t", "SELECT $ FROM t", nil},
		{"SELECT 'unterminated $1", "SELECT 'unterminated $1", nil},
	}
	for _, c := range cases {
		got, order := rebind(c.in)
		if got != c.out || !reflect.DeepEqual(order, c.order) {
			t.Errorf("rebind(%q) = %q %v, want %q %v", c.in, got, order, c.out, c.order)
		}
	}
}
