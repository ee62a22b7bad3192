package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/audit"
	"github.com/herald-news/herald/internal/model"
	"github.com/herald-news/herald/internal/segment"
)

// A segment's members are active subscribers confirmed on at least one list
// and not suppressed, for whom its query holds: a segment never reaches
// someone who has left every list.
const segmentBase = `sb.status = 'active'
	AND NOT EXISTS (SELECT 1 FROM suppressions x0 WHERE x0.email = sb.email)
	AND ` + segmentConfirmed

// segmentConfirmed is the part of segmentBase a campaign's expansion adds
// (it checks status and suppressions once for lists and segments).
const segmentConfirmed = `EXISTS (SELECT 1 FROM subscriptions sp0 WHERE sp0.subscriber_id = sb.id AND sp0.status = 'confirmed')`

// compiledSegment is a parsed query with the IDs of the lists it names.
type compiledSegment struct {
	node  segment.Node
	lists map[string]int64 // by slug
}

// compileSegment turns a parsed query into a SQL condition on the
// subscriber row sb, appending its values to args: every value the user
// wrote is a bound parameter, never part of the SQL text. Engagement
// windows ("within N days") are measured back from now.
func (s *Store) compileSegment(q compiledSegment, args *[]any, now time.Time) string {
	return s.compileNode(q.node, q.lists, args, now)
}

func (s *Store) compileNode(n segment.Node, lists map[string]int64, args *[]any, now time.Time) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	switch n := n.(type) {
	case segment.And:
		return "(" + s.compileNode(n.L, lists, args, now) + " AND " + s.compileNode(n.R, lists, args, now) + ")"
	case segment.Or:
		return "(" + s.compileNode(n.L, lists, args, now) + " OR " + s.compileNode(n.R, lists, args, now) + ")"
	case segment.Not:
		return "(NOT " + s.compileNode(n.X, lists, args, now) + ")"
	case segment.Cond:
		return s.compileCond(n, lists, arg, now)
	}
	panic(fmt.Sprintf("segment: unknown node %T", n))
}

func (s *Store) compileCond(c segment.Cond, lists map[string]int64, arg func(any) string, now time.Time) string {
	neg := func(sql string) string {
		if c.Op == "!=" {
			return "(NOT " + sql + ")"
		}
		return sql
	}
	switch c.Field {
	case segment.FieldAttr:
		// The key is bound too; the parser allows only letters, digits,
		// _ and - in it, so SQLite's path quoting cannot be escaped.
		key := arg(c.Key)
		val := `json_extract(sb.attributes, '$."' || ` + key + ` || '"')`
		if s.dialect == dialectPostgres {
			val = `(sb.attributes ->> CAST(` + key + ` AS TEXT))`
		}
		if c.Op == "exists" {
			return "(" + val + " IS NOT NULL)"
		}
		// A subscriber without the attribute is != any value.
		return neg("COALESCE(CAST(" + val + " AS TEXT) = " + arg(c.Value) + ", FALSE)")
	case segment.FieldList:
		// By the list's ID, read when the query was parsed: a lookup in
		// the subscriptions primary key per subscriber.
		return neg(`EXISTS (SELECT 1 FROM subscriptions sp
			WHERE sp.list_id = ` + arg(lists[c.Value]) + ` AND sp.subscriber_id = sb.id AND sp.status = 'confirmed')`)
	case segment.FieldDomain:
		// The parser allows only a-z, 0-9, - and . in a domain: no LIKE
		// wildcard can reach the pattern.
		return neg(`(LOWER(sb.email) LIKE ` + arg("%@"+c.Value) + `)`)
	case segment.FieldSignup:
		switch c.Op {
		case "before":
			return `(sb.created_at < ` + arg(c.Date) + `)`
		case "after":
			return `(sb.created_at >= ` + arg(c.Date.AddDate(0, 0, 1)) + `)`
		default:
			return `(sb.created_at >= ` + arg(now.AddDate(0, 0, -c.Days)) + `)`
		}
	case segment.FieldOpened, segment.FieldClicked:
		kind := model.EventOpen
		if c.Field == segment.FieldClicked {
			kind = model.EventClick
		}
		// Only a reader's opens and clicks count: a scanner's click or a
		// privacy proxy's preload says nothing of the reader (package engage).
		if c.Op == "never" {
			return `(NOT EXISTS (SELECT 1 FROM events e WHERE e.subscriber_id = sb.id AND e.kind = ` + arg(string(kind)) + ` AND e.class = 'human'))`
		}
		return `EXISTS (SELECT 1 FROM events e WHERE e.subscriber_id = sb.id AND e.kind = ` + arg(string(kind)) +
			` AND e.at >= ` + arg(now.AddDate(0, 0, -c.Days)) + ` AND e.class = 'human')`
	}
	panic(fmt.Sprintf("segment: unknown field %q", c.Field))
}

// ParseSegment parses a query and checks that every list it names exists,
// so a typo is an error instead of an empty segment.
func (s *Store) ParseSegment(ctx context.Context, query string) (segment.Node, error) {
	q, err := s.parseSegment(ctx, query)
	return q.node, err
}

func (s *Store) parseSegment(ctx context.Context, query string) (compiledSegment, error) {
	n, err := segment.Parse(query)
	if err != nil {
		return compiledSegment{}, err
	}
	q := compiledSegment{node: n, lists: map[string]int64{}}
	var missing []string
	var ferr error
	segment.Walk(n, func(c segment.Cond) {
		if _, seen := q.lists[c.Value]; c.Field != segment.FieldList || ferr != nil || seen {
			return
		}
		l, err := s.ListBySlug(ctx, c.Value)
		switch {
		case errors.Is(err, ErrNotFound):
			missing = append(missing, c.Value)
		case err != nil:
			ferr = err
		default:
			q.lists[c.Value] = l.ID
		}
	})
	if ferr != nil {
		return compiledSegment{}, ferr
	}
	if len(missing) > 0 {
		return compiledSegment{}, &segment.Error{Msg: fmt.Sprintf("there is no list %q", strings.Join(missing, `", "`))}
	}
	return q, nil
}

// CountSegmentQuery counts the subscribers a query selects now (the admin's
// live count, herald segments count). A query that does not parse is an
// error saying where and why.
func (s *Store) CountSegmentQuery(ctx context.Context, query string) (int64, error) {
	n, err := s.parseSegment(ctx, query)
	if err != nil {
		return 0, err
	}
	var args []any
	cond := s.compileSegment(n, &args, s.now())
	var total int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers sb WHERE `+segmentBase+` AND `+cond, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return total, nil
}

// SegmentMembers returns up to limit members of a query, by ID, for a
// preview.
func (s *Store) SegmentMembers(ctx context.Context, query string, limit int) ([]model.Subscriber, error) {
	n, err := s.parseSegment(ctx, query)
	if err != nil {
		return nil, err
	}
	var args []any
	cond := s.compileSegment(n, &args, s.now())
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers sb WHERE `+segmentBase+` AND `+cond+
		fmt.Sprintf(` ORDER BY sb.id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("segment members: %w", err)
	}
	defer rows.Close()
	var out []model.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("segment members: %w", err)
		}
		out = append(out, *sub)
	}
	return out, rows.Err()
}

// SaveSegment creates a segment (ID 0) or updates one, after checking its
// query. A name already in use is ErrConflict.
func (s *Store) SaveSegment(ctx context.Context, sg *model.Segment) error {
	sg.Name = strings.TrimSpace(sg.Name)
	if sg.Name == "" || len(sg.Name) > 100 {
		return errors.New("a segment needs a name of 1 to 100 characters")
	}
	n, err := s.ParseSegment(ctx, sg.Query)
	if err != nil {
		return err
	}
	sg.Query = n.String()
	now := s.now()
	err = s.inAuditedTx(ctx, audit.SegmentSave, func(tx *sql.Tx) (string, audit.Changes, error) {
		if sg.ID == 0 {
			err := tx.QueryRowContext(ctx, `INSERT INTO segments (name, query, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
				sg.Name, sg.Query, now).Scan(&sg.ID)
			sg.CreatedAt = now
			return audit.Object("segment", sg.ID), audit.Changes{}.Set("name", nil, sg.Name).Set("query", nil, sg.Query), err
		}
		var oldName, oldQuery string
		err := tx.QueryRowContext(ctx, `SELECT name, query FROM segments WHERE id = $1`, sg.ID).Scan(&oldName, &oldQuery)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("segment %d: %w", sg.ID, ErrNotFound)
		}
		if err != nil {
			return "", nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET name = $1, query = $2, updated_at = $3 WHERE id = $4`, sg.Name, sg.Query, now, sg.ID); err != nil {
			return "", nil, err
		}
		ch := audit.Changes{}.Set("name", oldName, sg.Name).Set("query", oldQuery, sg.Query)
		if len(ch) == 0 {
			return "", nil, nil
		}
		return audit.Object("segment", sg.ID), ch, nil
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("segment %q: %w", sg.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save segment %q: %w", sg.Name, err)
	}
	sg.UpdatedAt = now
	return nil
}

// DeleteSegment deletes a saved segment. One that is the audience of a
// campaign stays, as the record of whom the campaign was for: the error
// (ErrInUse) names the campaign.
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	return s.inAuditedTx(ctx, audit.SegmentDelete, func(tx *sql.Tx) (string, audit.Changes, error) {
		var cid int64
		var cname string
		err := tx.QueryRowContext(ctx, `SELECT c.id, c.name FROM campaign_segments cs JOIN campaigns c ON c.id = cs.campaign_id
			WHERE cs.segment_id = $1 ORDER BY c.id LIMIT 1`, id).Scan(&cid, &cname)
		if err == nil {
			return "", nil, &InUseError{fmt.Sprintf("The segment is the audience of campaign %d (%q), so it stays as the record of whom it was for.", cid, cname)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("delete segment %d: %w", id, err)
		}
		var name, query string
		err = tx.QueryRowContext(ctx, `DELETE FROM segments WHERE id = $1 RETURNING name, query`, id).Scan(&name, &query)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, fmt.Errorf("segment %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return "", nil, fmt.Errorf("delete segment %d: %w", id, err)
		}
		return fmt.Sprintf("segment/%d", id), audit.Changes{}.Set("name", name, "").Set("query", query, ""), nil
	})
}

const segmentColumns = `id, name, query, created_at, updated_at`

func scanSegment(row interface{ Scan(...any) error }) (*model.Segment, error) {
	var sg model.Segment
	err := row.Scan(&sg.ID, &sg.Name, &sg.Query, &sg.CreatedAt, &sg.UpdatedAt)
	return &sg, err
}

// Segments lists saved segments by name.
func (s *Store) Segments(ctx context.Context) ([]model.Segment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+segmentColumns+` FROM segments ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	defer rows.Close()
	var out []model.Segment
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("read segments: %w", err)
		}
		out = append(out, *sg)
	}
	return out, rows.Err()
}

// Segment returns a segment by ID.
func (s *Store) Segment(ctx context.Context, id int64) (*model.Segment, error) {
	sg, err := scanSegment(s.r.QueryRowContext(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("segment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read segment %d: %w", id, err)
	}
	return sg, nil
}

// SegmentByName returns a segment by its name.
func (s *Store) SegmentByName(ctx context.Context, name string) (*model.Segment, error) {
	sg, err := scanSegment(s.r.QueryRowContext(ctx, `SELECT `+segmentColumns+` FROM segments WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("segment %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read segment %q: %w", name, err)
	}
	return sg, nil
}
