package mailer

import "time"

// Observer hears what a Mailer does, for metrics and logs (package
// metrics implements it; the mailer knows nothing of Prometheus). Its
// methods are called on the sending goroutines and must return quickly.
type Observer interface {
	// Message reports the end of one Send: the relay that handled it last
	// ("" when no relay could be tried) and what Send returned (nil when a
	// relay accepted the message; Classify tells the rest apart).
	Message(relay string, err error)
	// Transaction reports how long handing one message to relay took,
	// from taking a connection (pooled, new, or an API request slot) to
	// the relay's last answer or the failure that ended it; not reported
	// when no connection could be had.
	Transaction(relay string, took time.Duration)
	// Rotation reports a relay taken out of rotation after repeated
	// failures, or back in after a successful trial.
	Rotation(RotationEvent)
}

// RotationEvent is a relay leaving or rejoining the rotation.
type RotationEvent struct {
	Relay string
	In    bool // back in rotation; false: taken out
	At    time.Time
	// Reason is the failure that took the relay out ("" when back in).
	Reason string
}

// noObserver is the Observer of a Mailer configured without one.
type noObserver struct{}

func (noObserver) Message(string, error)             {}
func (noObserver) Transaction(string, time.Duration) {}
func (noObserver) Rotation(RotationEvent)            {}
