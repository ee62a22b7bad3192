-- Engagement an editor can trust: every open and click carries a class
-- (human, machine or privacy: Apple Mail Privacy Protection's preloads)
-- and the reason for it; see package engage and docs/engagement.md.
ALTER TABLE events ADD COLUMN class TEXT NOT NULL DEFAULT 'human' CHECK (class IN ('human', 'machine', 'privacy'));
ALTER TABLE events ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- Events recorded before classification kept no user agent or address, so
-- only the burst rule can be applied to them: a recipient's clicks on more
-- than half of the message's links (at least 3) within 5 seconds either
-- side of a click are a scanner's (engage.BurstWindow, engage.BurstLinks).
UPDATE events SET class = 'machine', reason = 'burst'
WHERE id IN (
    SELECT e.id FROM events e JOIN campaign_content c ON c.campaign_id = e.campaign_id
    WHERE e.kind = 'click' AND e.subscriber_id IS NOT NULL
    AND (SELECT COUNT(DISTINCT o.url) FROM events o
         WHERE o.subscriber_id = e.subscriber_id AND o.kind = 'click' AND o.campaign_id = e.campaign_id
         AND julianday(o.at) BETWEEN julianday(e.at) - 5.0 / 86400 AND julianday(e.at) + 5.0 / 86400)
        >= MAX(3, (length(c.links) - length(replace(c.links, char(10), '')) + 1) / 2 + 1)
);

-- Events a node spooled to a local file while the database was behind:
-- how far each spool segment has been written, in the same transaction as
-- its events, so a crash while draining neither loses nor repeats any.
CREATE TABLE event_spools (
    segment    TEXT PRIMARY KEY,
    done       INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Readers' feedback: the rating of a whole briefing (kind briefing, with
-- an optional comment), of one of its sections (kind section), and why a
-- reader left (kind leaving, after the unsubscribe). One answer of each
-- kind per reader, campaign and section; a later answer replaces it.
CREATE TABLE feedback (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('briefing', 'section', 'leaving')),
    campaign_id   INTEGER REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id INTEGER,
    section       TEXT NOT NULL DEFAULT '',
    rating        INTEGER NOT NULL DEFAULT 0,
    reason        TEXT NOT NULL DEFAULT '',
    comment       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX feedback_once ON feedback (kind, campaign_id, subscriber_id, section);
CREATE INDEX feedback_by_time ON feedback (created_at);
