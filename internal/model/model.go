// Package model holds Herald's domain types: subscribers, lists, subscriptions,
// suppressions, editions and campaigns. It imports nothing from Herald and does
// no I/O; every other package speaks in these types.
package model
