-- +goose Up
-- Who viewed which feed on which day (UTC): a viewer counts once per feed
-- per day, on every node, because this key decides. Rows of days before
-- today are deleted as the day turns (the feed module's viewCounter).
CREATE TABLE feeds.daily_views (
    day       date   NOT NULL,
    feed_id   bigint NOT NULL,
    viewer_id bigint NOT NULL,
    PRIMARY KEY (day, feed_id, viewer_id)
);

-- +goose Down
DROP TABLE feeds.daily_views;
