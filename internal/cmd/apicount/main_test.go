package main

import (
	"go/parser"
	"go/token"
	"testing"
)

func TestExported(t *testing.T) {
	src := `package p
const A, b = 1, 2
var C int
type T struct{ Field int }
type u struct{}
type G[K any] struct{}
func F() {}
func f() {}
func (T) M() {}
func (*T) m() {}
func (u) M() {}
func (G[K]) M() {}
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A, C, T, G, F, T.M, G.M; not b, u, f, T.m, u.M, nor fields.
	if got := exported(f); got != 7 {
		t.Errorf("exported = %d, want 7", got)
	}
	for rel, want := range map[string]bool{"router": false, "internal/jsonscan": true, "provider/internal/wire": true, "examples/gateway": true, "bench/cmd/report": true} {
		if got := excluded(rel); got != want {
			t.Errorf("excluded(%q) = %v, want %v", rel, got, want)
		}
	}
}
