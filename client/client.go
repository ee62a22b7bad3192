// Package client is the Go client of Herald's JSON API (/api/). Every call
// sends the API token as a bearer token; every error the server reports is
// an *Error with its status, code and message.
//
//	c := client.New("https://news.example.com", token)
//	l, err := c.CreateList(ctx, client.ListInput{Slug: "evening", Name: "Evening"})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client calls one Herald server. Safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client for the server at baseURL using an API token.
func New(baseURL, token string) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/") + "/api", token: token, http: http.DefaultClient}
}

// WithHTTPClient returns a copy of c that uses hc.
func (c *Client) WithHTTPClient(hc *http.Client) *Client {
	cp := *c
	cp.http = hc
	return &cp
}

// Error is an error the API answered with.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("herald API: %d %s: %s", e.Status, e.Code, e.Message)
}

// IsNotFound reports whether err is the API's not_found.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body, ct = v, "text/csv"
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var eb ErrorBody
		json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&eb)
		return &Error{Status: res.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	if w, ok := out.(io.Writer); ok { // a file download, such as an export
		if _, err := io.Copy(w, res.Body); err != nil {
			return fmt.Errorf("read %s %s: %w", method, path, err)
		}
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

func page(limit, offset int) string {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Me returns the token's user and role.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var m Me
	return &m, c.call(ctx, "GET", "/me", nil, &m)
}

// Lists returns every list.
func (c *Client) Lists(ctx context.Context) ([]List, error) {
	var p Page[List]
	return p.Data, c.call(ctx, "GET", "/lists", nil, &p)
}

// CreateList creates a list.
func (c *Client) CreateList(ctx context.Context, in ListInput) (*List, error) {
	var l List
	return &l, c.call(ctx, "POST", "/lists", in, &l)
}

// List returns one list.
func (c *Client) List(ctx context.Context, id int64) (*List, error) {
	var l List
	return &l, c.call(ctx, "GET", fmt.Sprintf("/lists/%d", id), nil, &l)
}

// UpdateList changes a list's name, description, opt-in and visibility.
func (c *Client) UpdateList(ctx context.Context, id int64, in ListInput) (*List, error) {
	var l List
	return &l, c.call(ctx, "PUT", fmt.Sprintf("/lists/%d", id), in, &l)
}

// DeleteList deletes a list (its subscribers stay).
func (c *Client) DeleteList(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/lists/%d", id), nil, nil)
}

// Subscribers searches subscribers.
func (c *Client) Subscribers(ctx context.Context, q SubscriberQuery) (*Page[Subscriber], error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" && s != "0" {
			v.Set(k, s)
		}
	}
	set("q", q.Search)
	set("list", strconv.FormatInt(q.ListID, 10))
	set("substatus", q.SubStatus)
	set("status", q.Status)
	set("attr", q.Attribute)
	set("limit", strconv.Itoa(q.Limit))
	set("offset", strconv.Itoa(q.Offset))
	var p Page[Subscriber]
	return &p, c.call(ctx, "GET", "/subscribers?"+v.Encode(), nil, &p)
}

// CreateSubscriber creates a subscriber (or updates the one with that email).
func (c *Client) CreateSubscriber(ctx context.Context, in SubscriberInput) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "POST", "/subscribers", in, &s)
}

// Subscriber returns one subscriber with their lists.
func (c *Client) Subscriber(ctx context.Context, id int64) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "GET", fmt.Sprintf("/subscribers/%d", id), nil, &s)
}

// UpdateSubscriber changes a subscriber.
func (c *Client) UpdateSubscriber(ctx context.Context, id int64, in SubscriberInput) (*Subscriber, error) {
	var s Subscriber
	return &s, c.call(ctx, "PATCH", fmt.Sprintf("/subscribers/%d", id), in, &s)
}

// EraseSubscriber removes a subscriber's personal data.
func (c *Client) EraseSubscriber(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("/subscribers/%d", id), nil, nil)
}

// Bulk applies one action to many subscribers.
func (c *Client) Bulk(ctx context.Context, in BulkRequest) (*BulkResult, error) {
	var r BulkResult
	return &r, c.call(ctx, "POST", "/subscribers/bulk", in, &r)
}

// Import reads CSV into a list and reports what it did.
func (c *Client) Import(ctx context.Context, listID int64, csv io.Reader, opt ImportOptions) (*ImportResult, error) {
	v := url.Values{"list": {strconv.FormatInt(listID, 10)}}
	if opt.Status != "" {
		v.Set("status", opt.Status)
	}
	if opt.Mode != "" {
		v.Set("mode", opt.Mode)
	}
	var r ImportResult
	return &r, c.call(ctx, "POST", "/imports?"+v.Encode(), csv, &r)
}

// ExportList writes a list's subscribers to w as CSV (the columns herald
// export writes): everyone on the list, or one subscription status.
func (c *Client) ExportList(ctx context.Context, listID int64, status string, w io.Writer) error {
	q := ""
	if status != "" {
		q = "?" + url.Values{"status": {status}}.Encode()
	}
	return c.call(ctx, "GET", fmt.Sprintf("/lists/%d/export%s", listID, q), nil, w)
}

// EditionRevisions lists an edition's kept revisions, newest first.
func (c *Client) EditionRevisions(ctx context.Context, id int64) ([]EditionRevision, error) {
	var out []EditionRevision
	return out, c.call(ctx, "GET", fmt.Sprintf("/editions/%d/revisions", id), nil, &out)
}

// Editions lists editions, newest first.
func (c *Client) Editions(ctx context.Context, limit, offset int) (*Page[Edition], error) {
	var p Page[Edition]
	return &p, c.call(ctx, "GET", "/editions"+page(limit, offset), nil, &p)
}

// CreateEdition stores a new draft edition.
func (c *Client) CreateEdition(ctx context.Context, e *Edition) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "POST", "/editions", e, &out)
}

// Edition returns one edition.
func (c *Client) Edition(ctx context.Context, id int64) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "GET", fmt.Sprintf("/editions/%d", id), nil, &out)
}

// UpdateEdition replaces an edition's content.
func (c *Client) UpdateEdition(ctx context.Context, id int64, e *Edition) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "PUT", fmt.Sprintf("/editions/%d", id), e, &out)
}

// PublishEdition marks an edition published (it must have no problems).
func (c *Client) PublishEdition(ctx context.Context, id int64) (*Edition, error) {
	var out Edition
	return &out, c.call(ctx, "POST", fmt.Sprintf("/editions/%d/publish", id), nil, &out)
}

// Campaigns lists campaigns, newest first.
func (c *Client) Campaigns(ctx context.Context, limit, offset int) (*Page[Campaign], error) {
	var p Page[Campaign]
	return &p, c.call(ctx, "GET", "/campaigns"+page(limit, offset), nil, &p)
}

// CreateCampaign creates a draft (or, with SendAt, scheduled) campaign.
func (c *Client) CreateCampaign(ctx context.Context, in CampaignInput) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "POST", "/campaigns", in, &out)
}

// Campaign returns one campaign.
func (c *Client) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d", id), nil, &out)
}

func (c *Client) action(ctx context.Context, id int64, act string, in any) (*Campaign, error) {
	var out Campaign
	return &out, c.call(ctx, "POST", fmt.Sprintf("/campaigns/%d/%s", id, act), in, &out)
}

// StartCampaign freezes the edition, writes the ledger and starts sending.
func (c *Client) StartCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "start", nil)
}

// PauseCampaign stops claiming new recipients.
func (c *Client) PauseCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "pause", nil)
}

// ResumeCampaign continues a paused campaign.
func (c *Client) ResumeCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "resume", nil)
}

// CancelCampaign stops a campaign for good.
func (c *Client) CancelCampaign(ctx context.Context, id int64) (*Campaign, error) {
	return c.action(ctx, id, "cancel", nil)
}

// ScheduleCampaign sets (or with nil clears) a draft's send time.
func (c *Client) ScheduleCampaign(ctx context.Context, id int64, s Schedule) (*Campaign, error) {
	return c.action(ctx, id, "schedule", s)
}

// CampaignStats returns a campaign's delivery and engagement.
func (c *Client) CampaignStats(ctx context.Context, id int64) (*Stats, error) {
	var s Stats
	return &s, c.call(ctx, "GET", fmt.Sprintf("/campaigns/%d/stats", id), nil, &s)
}

// Suppressions lists suppressed addresses, newest first.
func (c *Client) Suppressions(ctx context.Context, limit, offset int) (*Page[Suppression], error) {
	var p Page[Suppression]
	return &p, c.call(ctx, "GET", "/suppressions"+page(limit, offset), nil, &p)
}

// Suppress blocks an address from every list.
func (c *Client) Suppress(ctx context.Context, in SuppressionInput) (*Suppression, error) {
	var s Suppression
	return &s, c.call(ctx, "POST", "/suppressions", in, &s)
}

// Unsuppress lifts a suppression.
func (c *Client) Unsuppress(ctx context.Context, email string) error {
	return c.call(ctx, "DELETE", "/suppressions/"+url.PathEscape(email), nil, nil)
}

// Segments returns the saved segments with their counts.
func (c *Client) Segments(ctx context.Context) ([]Segment, error) {
	var out []Segment
	return out, c.call(ctx, "GET", "/segments", nil, &out)
}

// CreateSegment saves a segment.
func (c *Client) CreateSegment(ctx context.Context, in SegmentInput) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "POST", "/segments", in, &sg)
}

// UpdateSegment changes a segment's name or query.
func (c *Client) UpdateSegment(ctx context.Context, id int64, in SegmentInput) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "PUT", fmt.Sprintf("/segments/%d", id), in, &sg)
}

// Segment returns one segment with its count.
func (c *Client) Segment(ctx context.Context, id int64) (*Segment, error) {
	var sg Segment
	return &sg, c.call(ctx, "GET", fmt.Sprintf("/segments/%d", id), nil, &sg)
}

// CountSegment counts the subscribers a query (saved or not) selects now.
func (c *Client) CountSegment(ctx context.Context, query string) (*SegmentCount, error) {
	var out SegmentCount
	return &out, c.call(ctx, "POST", "/segments/count", SegmentInput{Query: query}, &out)
}
