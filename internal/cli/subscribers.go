package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-news/herald/internal/address"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/store"
)

func runSubscribersCount(ctx context.Context, e *env, args []string) error {
	fs := e.flags("subscribers count", "[--list SLUG] [--status confirmed|unconfirmed|unsubscribed]")
	list := fs.String("list", "", "count this list's subscriptions")
	status := fs.String("status", "", "only subscriptions with this status")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	st := model.SubscriptionStatus(*status)
	if st != "" && !st.Valid() {
		return usageErrorf("--status must be confirmed, unconfirmed or unsubscribed")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		f := store.SubscriberFilter{Status: st}
		if *list != "" {
			l, err := listBySlug(ctx, s, *list)
			if err != nil {
				return err
			}
			f.ListID = l.ID
		}
		n, err := s.CountSubscribers(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, n)
		return nil
	})
}

// subscriberArg normalises an address given on the command line and loads
// its subscriber.
func subscriberArg(ctx context.Context, s *store.Store, raw string) (*model.Subscriber, error) {
	email, err := address.Normalize(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a usable address: %w", raw, err)
	}
	sub, err := s.SubscriberByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no subscriber has the address %s", email)
	}
	return sub, err
}

func runSubscribersShow(ctx context.Context, e *env, args []string) error {
	fs := e.flags("subscribers show", "EMAIL")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		sub, err := subscriberArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		subs, err := s.Subscriptions(ctx, sub.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "email:      %s\nname:       %s\nstatus:     %s\ncreated:    %s\nupdated:    %s\n",
			sub.Email, sub.Name, sub.Status, sub.CreatedAt.Format(time.RFC3339), sub.UpdatedAt.Format(time.RFC3339))
		if len(sub.Attributes) > 0 {
			b, _ := json.Marshal(sub.Attributes)
			fmt.Fprintf(e.stdout, "attributes: %s\n", b)
		}
		if sp, err := s.Suppression(ctx, sub.Email); err == nil {
			fmt.Fprintf(e.stdout, "suppressed: %s since %s %s\n", sp.Reason, sp.CreatedAt.Format(time.RFC3339), sp.Detail)
		}
		fmt.Fprintln(e.stdout, "lists:")
		for _, x := range subs {
			fmt.Fprintf(e.stdout, "  %-20s %-13s via %-9s %s\n", x.ListSlug, x.Status, x.Source, x.UpdatedAt.Format(time.RFC3339))
		}
		return nil
	})
}

func runSubscribersDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags("subscribers delete", "EMAIL")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		sub, err := subscriberArg(ctx, s, pos[0])
		if err != nil {
			return err
		}
		if err := s.EraseSubscriber(ctx, sub.Email); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "erased %s and their personal data\n", sub.Email)
		return nil
	})
}

func runSuppress(ctx context.Context, e *env, args []string) error {
	fs := e.flags("suppress", "EMAIL [--reason manual|hard_bounce|complaint|unsubscribe] [--detail TEXT]")
	reason := fs.String("reason", string(model.SuppressManual), "why the address is suppressed")
	detail := fs.String("detail", "", "a note kept with the suppression")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	r := model.SuppressionReason(*reason)
	if !r.Valid() {
		return usageErrorf("--reason must be manual, hard_bounce, complaint or unsubscribe")
	}
	email, err := address.Normalize(pos[0])
	if err != nil {
		return fmt.Errorf("%q is not a usable address: %w", pos[0], err)
	}
	return e.withStore(ctx, func(s *store.Store) error {
		if err := s.Suppress(ctx, email, r, *detail); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "suppressed %s (%s)\n", email, r)
		return nil
	})
}
