package validator_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/validator"
)

// TestPassword: each rule a new password can break has its own error, on
// the field "password"; a password around which spaces were copied is
// told so, not measured.
func TestPassword(t *testing.T) {
	for _, tc := range []struct {
		what, pw string
		want     error
	}{
		{"ten characters", "abcdefghij", nil},
		{"spaces inside", "correct horse battery", nil},
		{"accented", "éléphantôme", nil},
		{"nine characters", "abcdefghi", validator.ErrPasswordShort},
		{"empty", "", validator.ErrPasswordShort},
		{"leading spaces", "    Xk3tQ9vLm2Rp7Wd5Nb8c", validator.ErrPasswordSpaces},
		{"trailing space", "Xk3tQ9vLm2Rp7Wd5Nb8c ", validator.ErrPasswordSpaces},
		{"trailing newline", "Xk3tQ9vLm2Rp7Wd5Nb8c\n", validator.ErrPasswordSpaces},
		{"short with spaces", "  abc  ", validator.ErrPasswordSpaces},
		{"a tab inside", "abcde\tfghij", validator.ErrPasswordControl},
		{"72 bytes", strings.Repeat("a", 72), nil},
		{"73 bytes", strings.Repeat("a", 73), validator.ErrPasswordLong},
		{"37 two-byte characters", strings.Repeat("é", 37), validator.ErrPasswordLong},
	} {
		err := validator.Password(tc.pw)
		if tc.want == nil {
			wantField(t, tc.what, err, "")
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, err, tc.want)
		}
		wantField(t, tc.what, err, "password")
	}
	if !validator.HasSurroundingSpace(" a") || validator.HasSurroundingSpace("a b") {
		t.Error("HasSurroundingSpace is wrong")
	}
}
