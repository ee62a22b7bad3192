package cli

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/secretbox"
	"github.com/herald-news/herald/internal/store"
)

// TestSecretsSealedWithTheMasterKey: secrets kept clear before a master
// key was set are sealed by `herald secrets reseal`; with the key, Herald
// reads them as before; without it, it says what is missing; a rotation
// (master_key_previous) reseals them under the new key.
func TestSecretsSealedWithTheMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.db")
	s, err := store.Open(ctx, store.Options{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "secret_key", "0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	ep := &model.WebhookEndpoint{URL: "https://crm.example.net/in", Secret: "whsec_clear_until_sealed", Events: model.WebhookEvents(), Active: true}
	if err := s.CreateWebhookEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	s.Close()

	oldKey, newKey := strings.Repeat("k", 40), strings.Repeat("n", 40)
	vars := map[string]string{"HERALD_DATA": dir, "HERALD_MASTER_KEY": oldKey}
	if out, errs, code := herald(t, vars, nil, "secrets", "reseal"); code != 0 || !strings.Contains(out, "sealed 2 secrets") {
		t.Fatalf("reseal: %d %q %q", code, out, errs)
	}
	raw := func() (setting, secret string) {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(`SELECT value FROM settings WHERE key = 'secret_key'`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT secret FROM webhook_endpoints WHERE id = ?`, ep.ID).Scan(&secret); err != nil {
			t.Fatal(err)
		}
		return setting, secret
	}
	setting, secret := raw()
	if !secretbox.Sealed(setting) || !secretbox.Sealed(secret) || strings.Contains(secret, "whsec") {
		t.Fatalf("stored after resealing: %q, %q", setting, secret)
	}
	open := func(keys ...string) (*store.Store, error) {
		var box *secretbox.Box
		if len(keys) > 0 {
			var err error
			if box, err = secretbox.New(keys[0], keys[1:]...); err != nil {
				t.Fatal(err)
			}
		}
		return store.Open(ctx, store.Options{SQLitePath: path, Box: box})
	}
	read := func(s *store.Store) (string, string, error) {
		v, err := s.Setting(ctx, "secret_key")
		if err != nil {
			return "", "", err
		}
		e, err := s.WebhookEndpoint(ctx, ep.ID)
		if err != nil {
			return "", "", err
		}
		return v, e.Secret, nil
	}
	withKey, err := open(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if v, sec, err := read(withKey); err != nil || v != "0123456789abcdef0123456789abcdef" || sec != "whsec_clear_until_sealed" {
		t.Fatalf("with the key: %q %q %v", v, sec, err)
	}
	withKey.Close()
	noKey, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(noKey); !errors.Is(err, secretbox.ErrNoKey) || !strings.Contains(err.Error(), "HERALD_MASTER_KEY") {
		t.Fatalf("without the key: %v", err)
	}
	noKey.Close()

	// Rotation: the new key, the old one as previous, reseal.
	vars["HERALD_MASTER_KEY"], vars["HERALD_MASTER_KEY_PREVIOUS"] = newKey, oldKey
	if out, errs, code := herald(t, vars, nil, "secrets", "reseal"); code != 0 || !strings.Contains(out, "sealed 2 secrets") {
		t.Fatalf("rotate: %d %q %q", code, out, errs)
	}
	if out, _, code := herald(t, vars, nil, "secrets", "reseal"); code != 0 || !strings.Contains(out, "sealed 0 secrets") {
		t.Fatalf("a second reseal: %d %q", code, out)
	}
	onlyNew, err := open(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if v, sec, err := read(onlyNew); err != nil || v != "0123456789abcdef0123456789abcdef" || sec != "whsec_clear_until_sealed" {
		t.Fatalf("with the new key only: %q %q %v", v, sec, err)
	}
	onlyNew.Close()
	onlyOld, err := open(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(onlyOld); !errors.Is(err, secretbox.ErrWrongKey) {
		t.Fatalf("with the old key after rotating: %v", err)
	}
	onlyOld.Close()
	if _, errs, code := herald(t, map[string]string{"HERALD_DATA": dir}, nil, "secrets", "reseal"); code != 1 || !strings.Contains(errs, "no master key is set") {
		t.Fatalf("reseal without a key: %d %q", code, errs)
	}
}
