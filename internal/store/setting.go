package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/herald-news/herald/internal/secretbox"
	"maps"
	"slices"
	"strings"

	"github.com/herald-news/herald/internal/audit"
)

// Setting returns a named setting's value.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return s.openSetting(key, v)
}

// Settings whose key names a secret (audit.Secret: a key, a token, a
// password) are sealed with the master key when the store has one
// (Options.Box), and opened as they are read.

func (s *Store) sealSetting(key, v string) string {
	if audit.Secret(key) {
		return s.box.Seal(v)
	}
	return v
}

func (s *Store) openSetting(key, v string) (string, error) {
	if !secretbox.Sealed(v) {
		return v, nil
	}
	out, err := s.box.Open(v)
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return out, nil
}

// PutSetting stores a named setting.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.PutSettings(ctx, map[string]string{key: value})
}

// PutSettings stores several settings in one transaction, so readers see
// all of them change together (a key and its selector, say). A person's
// change is recorded as settings.update with the keys that changed (the
// values of secret ones hidden).
func (s *Store) PutSettings(ctx context.Context, values map[string]string) error {
	now := s.now()
	// In key order: two writers of the same keys then lock them in the
	// same order and cannot deadlock on PostgreSQL.
	keys := slices.Sorted(maps.Keys(values))
	return s.inAuditedTx(ctx, audit.SettingsUpdate, func(tx *sql.Tx) (string, audit.Changes, error) {
		before, err := s.settingsTx(ctx, tx, keys)
		if err != nil {
			return "", nil, err
		}
		for _, k := range keys {
			v := s.sealSetting(k, values[k])
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, k, v, now); err != nil {
				return "", nil, fmt.Errorf("save setting %s: %w", k, err)
			}
		}
		ch := audit.Diff(before, values)
		if len(ch) == 0 {
			return "", nil, nil
		}
		return "settings", ch, nil
	})
}

// settingsTx reads the current values of keys in tx (absent keys absent).
func (s *Store) settingsTx(ctx context.Context, tx *sql.Tx, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, k).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read setting %s: %w", k, err)
		}
		if out[k], err = s.openSetting(k, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Settings reads several settings in one query; keys not set are absent
// from the map.
func (s *Store) Settings(ctx context.Context, keys ...string) (map[string]string, error) {
	args := make([]any, len(keys))
	marks := make([]string, len(keys))
	for i, k := range keys {
		args[i], marks[i] = k, fmt.Sprintf("$%d", i+1)
	}
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM settings WHERE key IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read settings: %w", err)
		}
		if out[k], err = s.openSetting(k, v); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// SettingOrInit returns a setting, storing value first if the setting is
// absent. When several nodes race, all get the value that was stored first.
func (s *Store) SettingOrInit(ctx context.Context, key, value string) (string, error) {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO NOTHING`, key, s.sealSetting(key, value), s.now()); err != nil {
		return "", fmt.Errorf("save setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}

// NewsroomZoneSetting is the settings key of Herald's one IANA time zone
// (Admin → Settings → Time zone; the publication's TimeZone): series
// slots, the admin's times, and local-time campaigns (see TimeZone).
const NewsroomZoneSetting = "newsroom_time_zone"
