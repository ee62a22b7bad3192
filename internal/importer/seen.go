package importer

import (
	"maps"
	"slices"
	"sort"
)

// seenSet remembers which addresses (by 64-bit hash) a file has had, and
// on which line each first appeared, in about 12 bytes an address: recent
// hashes go in a small map, which is sorted and merged into two parallel
// sorted slices when it fills. A plain map of a million entries costs three
// to four times that, more while it grows.
type seenSet struct {
	recent map[uint64]int32
	hashes []uint64 // sorted
	lines  []int32  // lines[i] is the first line of hashes[i]
}

// recentMax bounds the map; merging costs a pass over the slices, so the
// total merge work stays small (n²/recentMax element moves).
const recentMax = 1 << 16

func newSeenSet() *seenSet { return &seenSet{recent: make(map[uint64]int32)} }

// lookup returns the line where h was first seen.
func (s *seenSet) lookup(h uint64) (int32, bool) {
	if line, ok := s.recent[h]; ok {
		return line, true
	}
	i := sort.Search(len(s.hashes), func(i int) bool { return s.hashes[i] >= h })
	if i < len(s.hashes) && s.hashes[i] == h {
		return s.lines[i], true
	}
	return 0, false
}

// add records h as first seen on line; h must not be in the set.
func (s *seenSet) add(h uint64, line int32) {
	s.recent[h] = line
	if len(s.recent) >= recentMax {
		s.merge()
	}
}

// merge moves the map into the slices, merging from their ends in place:
// the slices grow by a fraction when they must, and a merge allocates no
// second copy of them (at a million addresses that copy was the largest
// thing an import held).
func (s *seenSet) merge() {
	keys := slices.Sorted(maps.Keys(s.recent))
	n, k := len(s.hashes), len(keys)
	s.hashes = slices.Grow(s.hashes, k)[:n+k]
	s.lines = slices.Grow(s.lines, k)[:n+k]
	i, j := n-1, k-1
	for w := n + k - 1; j >= 0; w-- {
		if i >= 0 && s.hashes[i] > keys[j] {
			s.hashes[w], s.lines[w] = s.hashes[i], s.lines[i]
			i--
		} else {
			s.hashes[w], s.lines[w] = keys[j], s.recent[keys[j]]
			j--
		}
	}
	clear(s.recent)
}
