package model

import "time"

// Segment is a saved audience: the subscribers a query selects (see
// docs/audience.md for the language). Its members are worked out each time
// it is counted or a campaign targeting it starts.
type Segment struct {
	ID        int64
	Name      string
	Query     string
	CreatedAt time.Time
	UpdatedAt time.Time
}
