package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Media is an uploaded file (a hero picture), served publicly by Name.
type Media struct {
	ID          int64
	Name        string // content hash and extension: "3f9a…e1.jpg"
	ContentType string
	Data        []byte
	CreatedAt   time.Time
}

// SaveMedia stores a file under its name. Saving the same name again (the
// same content) keeps the first copy and is not an error.
func (s *Store) SaveMedia(ctx context.Context, m *Media) error {
	now := s.now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO media (name, content_type, data, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO NOTHING`, m.Name, m.ContentType, m.Data, now)
	if err != nil {
		return fmt.Errorf("save media %s: %w", m.Name, err)
	}
	m.CreatedAt = now
	return nil
}

// MediaByName returns a stored file.
func (s *Store) MediaByName(ctx context.Context, name string) (*Media, error) {
	var m Media
	err := s.r.QueryRowContext(ctx, `SELECT id, name, content_type, data, created_at FROM media WHERE name = $1`, name).
		Scan(&m.ID, &m.Name, &m.ContentType, &m.Data, &m.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("media %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read media %s: %w", name, err)
	}
	return &m, nil
}

// MediaInfo returns a stored file's size in bytes and its content type
// without reading the file (feeds give an enclosure's length).
func (s *Store) MediaInfo(ctx context.Context, name string) (size int64, contentType string, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT length(data), content_type FROM media WHERE name = $1`, name).Scan(&size, &contentType)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("media %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("read media %s: %w", name, err)
	}
	return size, contentType, nil
}
