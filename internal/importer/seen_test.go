package importer

import (
	"math/rand/v2"
	"testing"
)

func TestSeenSet(t *testing.T) {
	t.Parallel()
	s := newSeenSet()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[uint64]int32{}
	for line := int32(2); line < 3*recentMax+17; line++ {
		h := rng.Uint64() % (4 * recentMax) // many repeats
		first, ok := s.lookup(h)
		w, wok := want[h]
		if ok != wok || first != w {
			t.Fatalf("line %d: lookup(%d) = %d, %v; want %d, %v", line, h, first, ok, w, wok)
		}
		if !ok {
			s.add(h, line)
			want[h] = line
		}
	}
	if len(s.hashes) == 0 {
		t.Fatal("never merged: the test does not reach the sorted part")
	}
}
