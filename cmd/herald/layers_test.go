package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayers reads every package's imports with `go list` and checks the
// rules of docs/architecture.md: model imports nothing of Herald's, and no
// package below the front doors imports one (web, admin, api, cli). Test
// peers may be imported only by tests and by the bench and fault tools.
func TestLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "github.com/herald-news/herald/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/herald-news/herald/"
	doors := []string{mod + "internal/web", mod + "internal/admin", mod + "internal/api", mod + "internal/cli"}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		isDoor := slices.Contains(doors, p.ImportPath) || p.ImportPath == mod+"cmd/herald"
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			switch {
			case p.ImportPath == mod+"internal/model":
				t.Errorf("model imports %s: it must import nothing of Herald's", imp)
			case slices.Contains(doors, imp) && !isDoor:
				t.Errorf("%s imports the front door %s", p.ImportPath, imp)
			case slices.Contains(doors, imp) && imp != mod+"internal/cli" && p.ImportPath != mod+"internal/cli" && p.ImportPath != mod+"cmd/herald":
				t.Errorf("front door %s imports front door %s (only cli builds them all)", p.ImportPath, imp)
			}
		}
	}
	if n < 20 {
		t.Fatalf("go list read only %d packages", n)
	}
}
