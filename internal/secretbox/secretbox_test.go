package secretbox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/secretbox"
)

func TestSealOpenAndRotate(t *testing.T) {
	old, err := secretbox.New(strings.Repeat("o", 40))
	if err != nil {
		t.Fatal(err)
	}
	v := old.Seal("whsec_0123456789")
	if !secretbox.Sealed(v) || strings.Contains(v, "0123456789") {
		t.Fatalf("sealed value %q", v)
	}
	if v2 := old.Seal("whsec_0123456789"); v2 == v {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := old.Open(v); err != nil || got != "whsec_0123456789" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := old.Open("clear value"); err != nil || got != "clear value" {
		t.Fatalf("a clear value: %q, %v", got, err)
	}
	var none *secretbox.Box
	if _, err := none.Open(v); !errors.Is(err, secretbox.ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	other, _ := secretbox.New(strings.Repeat("n", 40))
	if _, err := other.Open(v); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	rotating, _ := secretbox.New(strings.Repeat("n", 40), strings.Repeat("o", 40))
	if got, err := rotating.Open(v); err != nil || got != "whsec_0123456789" || rotating.Current(v) {
		t.Fatalf("during rotation: %q, %v, current %v", got, err, rotating.Current(v))
	}
	if !rotating.Current(rotating.Seal("x")) {
		t.Error("a value sealed now is not current")
	}
	if _, err := secretbox.New("short"); err == nil {
		t.Error("a short master key was taken")
	}
	tampered := v[:len(v)-2] + "AA"
	if _, err := old.Open(tampered); err == nil {
		t.Error("a tampered value opened")
	}
}
