package bounce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

// Store is the part of the store a Recorder writes to.
type Store interface {
	SubscriberByID(ctx context.Context, id int64) (*model.Subscriber, error)
	SubscriberByEmail(ctx context.Context, email string) (*model.Subscriber, error)
	LastCampaignSentTo(ctx context.Context, subscriberID int64) (int64, error)
	Suppress(ctx context.Context, email string, reason model.SuppressionReason, detail string) error
	SoftBounce(ctx context.Context, email, detail string, threshold int, window time.Duration) (int, bool, error)
	RecordEvents(ctx context.Context, events []model.Event) error
}

// Defaults of a Recorder.
const (
	// DefaultSoftLimit is how many soft bounces suppress an address
	// (config soft_bounce_limit).
	DefaultSoftLimit = 3
	// DefaultSoftWindow is the longest gap between soft bounces that still
	// counts them as one run.
	DefaultSoftWindow = 7 * 24 * time.Hour
)

// Recorder records bounces and complaints, whichever way they came.
type Recorder struct {
	Store Store
	// VERP reads the tokens of reports that come back by mail.
	VERP VERP
	// SoftLimit soft bounces in a row suppress an address (DefaultSoftLimit
	// when 0); SoftWindow is the longest gap between two of them that keeps
	// the count (DefaultSoftWindow when 0).
	SoftLimit  int
	SoftWindow time.Duration
	Log        *slog.Logger
	Now        func() time.Time
}

func (r *Recorder) softLimit() int {
	if r.SoftLimit > 0 {
		return r.SoftLimit
	}
	return DefaultSoftLimit
}

func (r *Recorder) softWindow() time.Duration {
	if r.SoftWindow > 0 {
		return r.SoftWindow
	}
	return DefaultSoftWindow
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// heraldMessageID reads the campaign and subscriber of a Message-ID Herald
// set (message.ID).
var heraldMessageID = regexp.MustCompile(`herald\.c(\d+)\.s(\d+)@`)

// Record suppresses the addresses of hard bounces and complaints, counts
// soft bounces toward the limit (suppressing at the limit), and records an
// event of each for its subscriber and campaign. A report without
// SubscriberID is filed under the address it reports: its Message-ID's
// subscriber and campaign count only when that subscriber has this
// address, else the subscriber with the address and the last campaign
// sent to them. Reports whose address is not an address are left out.
//
// Every text of a report passes through Clean, and each report is stored
// on its own (its suppression or soft-bounce count, then its event), so
// one that fails never blocks the others of its batch; the error joins
// those that failed and means the store failed (the sender should retry).
func (r *Recorder) Record(ctx context.Context, reps []Report) error {
	var errs []error
	for _, rep := range reps {
		if err := r.record(ctx, rep); err != nil {
			errs = append(errs, fmt.Errorf("%s report: %w", rep.Kind, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Recorder) record(ctx context.Context, rep Report) error {
	email, err := address.Normalize(Clean(rep.Email, 320))
	if err != nil {
		return nil // nothing to act on
	}
	detail := oneLine(rep.Detail, 500)
	e := model.Event{Kind: rep.Kind, Detail: detail, At: r.now(), SubscriberID: rep.SubscriberID, CampaignID: rep.CampaignID}
	if e.SubscriberID == 0 {
		if e.SubscriberID, e.CampaignID, err = r.reader(ctx, email, Clean(rep.MessageID, 500)); err != nil {
			return err
		}
	}
	switch rep.Kind {
	case model.EventBounce:
		err = r.Store.Suppress(ctx, email, model.SuppressHardBounce, detail)
	case model.EventComplaint:
		err = r.Store.Suppress(ctx, email, model.SuppressComplaint, detail)
	case model.EventSoftBounce:
		_, _, err = r.Store.SoftBounce(ctx, email, detail, r.softLimit(), r.softWindow())
	default:
		return nil
	}
	if err != nil {
		return err
	}
	return r.Store.RecordEvents(ctx, []model.Event{e})
}

// reader finds whose report this is and which campaign it counts toward.
// The address the provider reports decides: a Message-ID is no secret and
// can be stale or forwarded, so its subscriber and campaign count only
// when that subscriber has this address. With no agreeing Message-ID the
// report counts toward the last campaign that reached the reader (a
// provider that does not echo it, a complaint loop that strips it), so a
// campaign's bounces and complaints are all there.
func (r *Recorder) reader(ctx context.Context, email, messageID string) (subscriberID, campaignID int64, err error) {
	if m := heraldMessageID.FindStringSubmatch(messageID); m != nil {
		cid, _ := strconv.ParseInt(m[1], 10, 64)
		sid, _ := strconv.ParseInt(m[2], 10, 64)
		sub, err := r.Store.SubscriberByID(ctx, sid)
		switch {
		case err == nil && strings.EqualFold(sub.Email, email):
			return sid, cid, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return 0, 0, err
		}
	}
	sub, err := r.Store.SubscriberByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if campaignID, err = r.Store.LastCampaignSentTo(ctx, sub.ID); err != nil {
		return 0, 0, err
	}
	return sub.ID, campaignID, nil
}

// Outcome says what became of one report that came by mail.
type Outcome struct {
	// Recorded is the report that was recorded, if any.
	Recorded *Report
	// Ignored, when nothing was recorded, says why, for the log.
	Ignored string
}

// Mail reads one report that came back by mail and records it. rcpts are
// the envelope recipients (the listener's RCPT TO), or nil when they are
// not known (a mailbox), in which case the message's Delivered-To,
// X-Original-To and To headers stand in. The subscriber and campaign come
// from the VERP token, else from the original's Message-ID when it names
// the subscriber whose address the report gives; a report that has
// neither is ignored. A forged token gives ErrForged and records nothing.
// Mail that is not a report (an automatic reply, anything else) is
// ignored, not an error.
func (r *Recorder) Mail(ctx context.Context, rcpts []string, raw []byte) (Outcome, error) {
	if rcpts == nil {
		rcpts = headerRecipients(raw)
	}
	subID, campID, err := r.envelopeClaims(rcpts)
	if err != nil {
		return Outcome{}, err
	}
	reps, err := Parse(raw)
	switch {
	case errors.Is(err, ErrAutoReply), errors.Is(err, ErrNotReport):
		return Outcome{Ignored: err.Error()}, nil
	case err != nil:
		return Outcome{Ignored: "unreadable: " + err.Error()}, nil
	}
	if subID == 0 {
		// No token on the envelope: the original's Return-Path (an ARF
		// report quotes the message as delivered) may carry it.
		for _, rep := range reps {
			s, c, err := r.VERP.Claims(rep.ReturnPath)
			if errors.Is(err, ErrForged) {
				return Outcome{}, err
			}
			if err == nil {
				subID, campID = s, c
				break
			}
		}
	}
	var rep Report
	if subID != 0 {
		sub, err := r.Store.SubscriberByID(ctx, subID)
		if errors.Is(err, store.ErrNotFound) {
			return Outcome{Ignored: fmt.Sprintf("subscriber %d no longer exists", subID)}, nil
		}
		if err != nil {
			return Outcome{}, err
		}
		rep = worst(reps)
		rep.Email, rep.SubscriberID, rep.CampaignID = sub.Email, sub.ID, campID
	} else {
		var ok bool
		if rep, ok, err = r.byMessageID(ctx, reps); err != nil {
			return Outcome{}, err
		}
		if !ok {
			return Outcome{Ignored: "no valid bounce token, and no Message-ID of Herald's naming the reported address"}, nil
		}
	}
	if err := r.Record(ctx, []Report{rep}); err != nil {
		return Outcome{}, err
	}
	return Outcome{Recorded: &rep}, nil
}

// envelopeClaims reads the VERP token among the recipients: the first
// valid one, ErrForged if a token is there and none verifies, zeros if
// there is none.
func (r *Recorder) envelopeClaims(rcpts []string) (int64, int64, error) {
	var forged error
	for _, a := range rcpts {
		s, c, err := r.VERP.Claims(a)
		switch {
		case err == nil:
			return s, c, nil
		case errors.Is(err, ErrForged):
			forged = err
		}
	}
	return 0, 0, forged
}

// byMessageID attributes a report by the Message-ID of Herald's it quotes,
// only when that subscriber's address is the one reported: a Message-ID is
// no secret (every reader has their own), so on its own it must not let
// anyone suppress another address.
func (r *Recorder) byMessageID(ctx context.Context, reps []Report) (Report, bool, error) {
	for _, rep := range ordered(reps) {
		m := heraldMessageID.FindStringSubmatch(rep.MessageID)
		if m == nil {
			continue
		}
		campID, _ := strconv.ParseInt(m[1], 10, 64)
		subID, _ := strconv.ParseInt(m[2], 10, 64)
		sub, err := r.Store.SubscriberByID(ctx, subID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Report{}, false, err
		}
		email, err := address.Normalize(rep.Email)
		if err != nil || !strings.EqualFold(email, sub.Email) {
			continue
		}
		rep.Email, rep.SubscriberID, rep.CampaignID = sub.Email, sub.ID, campID
		return rep, true, nil
	}
	return Report{}, false, nil
}

// severity orders reports: a complaint over a hard bounce over a soft one.
func severity(k model.EventKind) int {
	switch k {
	case model.EventComplaint:
		return 3
	case model.EventBounce:
		return 2
	}
	return 1
}

// worst is the most severe of reps (a message goes to one reader, so one
// report speaks for it).
func worst(reps []Report) Report {
	return ordered(reps)[0]
}

func ordered(reps []Report) []Report {
	out := slices.Clone(reps)
	slices.SortStableFunc(out, func(a, b Report) int { return severity(b.Kind) - severity(a.Kind) })
	return out
}

// headerRecipients are the addresses a delivered message says it was for,
// standing in for the envelope when it is not known.
func headerRecipients(raw []byte) []string {
	msg, err := mail.ReadMessage(strings.NewReader(string(raw[:min(len(raw), 64<<10)])))
	if err != nil {
		return []string{}
	}
	var out []string
	for _, k := range []string{"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc"} {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(k)] {
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					out = append(out, a.Address)
				}
			} else {
				out = append(out, strings.Trim(strings.TrimSpace(v), "<>"))
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
