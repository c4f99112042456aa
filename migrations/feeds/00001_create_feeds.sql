-- +goose Up
CREATE SCHEMA feeds;

-- hot_score ranks feeds for FeedRecommend without any periodic recompute:
-- engagement counts on a log scale plus the feed's age on a linear one, so
-- 12.5 hours of recency weigh as much as ten times the engagement
-- (the scheme Reddit published). Scaled by 1e6 to fit Feed.hot (uint64).
-- +goose StatementBegin
CREATE FUNCTION feeds.hot_score(likes bigint, comments bigint, views bigint, created_at timestamptz)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT round(1e6 * (
      log(1 + 2 * likes + 3 * comments + views / 10.0)
      + extract(epoch FROM created_at - timestamptz '2024-01-01 00:00:00+00') / 45000
  ))::bigint
$$;
-- +goose StatementEnd

CREATE TABLE feeds.feeds (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint      NOT NULL, -- the author, a user of the user module
    type           smallint    NOT NULL, -- feed.FeedType
    content        text        NOT NULL DEFAULT '',
    content_folded text        NOT NULL DEFAULT '', -- search.Fold(content), for search
    like_count     bigint      NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    view_count     bigint      NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    -- The flush that last added views (see the feed module's viewCounter):
    -- tells a reader whether the views being written are already counted.
    view_flush_gen bigint      NOT NULL DEFAULT 0,
    comment_count  bigint      NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    operator       bigint      NOT NULL DEFAULT 0, -- the admin who last reviewed it
    remark         text        NOT NULL DEFAULT '',
    is_enable      smallint    NOT NULL DEFAULT 1, -- common.IsEnable
    review_status  smallint    NOT NULL,           -- common.ReviewStatus
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    hot            bigint GENERATED ALWAYS AS (feeds.hot_score(like_count, comment_count, view_count, created_at)) STORED,
    -- The one definition of a public feed: enabled, review passed, not deleted.
    is_public      boolean GENERATED ALWAYS AS (is_enable = 1 AND review_status = 2 AND deleted_at IS NULL) STORED
);

CREATE INDEX feeds_public_id_idx ON feeds.feeds (id DESC) WHERE is_public;
CREATE INDEX feeds_public_author_idx ON feeds.feeds (user_id, id DESC) WHERE is_public;
CREATE INDEX feeds_public_hot_idx ON feeds.feeds (hot DESC, id DESC) WHERE is_public;
CREATE INDEX feeds_public_search_idx ON feeds.feeds USING gin (search.grams(content_folded)) WHERE is_public;
CREATE INDEX feeds_own_idx ON feeds.feeds (user_id, id DESC) WHERE deleted_at IS NULL;

-- A feed's media; an edit soft-deletes the old rows and adds new ones.
CREATE TABLE feeds.images (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_id    bigint      NOT NULL REFERENCES feeds.feeds (id),
    img_url    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE INDEX images_feed_idx ON feeds.images (feed_id, id) WHERE deleted_at IS NULL;

CREATE TABLE feeds.videos (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_id    bigint           NOT NULL REFERENCES feeds.feeds (id),
    video_url  text             NOT NULL,
    cover_url  text             NOT NULL DEFAULT '',
    width      bigint           NOT NULL DEFAULT 0,
    height     bigint           NOT NULL DEFAULT 0,
    duration   double precision NOT NULL DEFAULT 0,
    created_at timestamptz      NOT NULL DEFAULT now(),
    updated_at timestamptz      NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE INDEX videos_feed_idx ON feeds.videos (feed_id, id) WHERE deleted_at IS NULL;

CREATE TABLE feeds.likes (
    feed_id    bigint      NOT NULL REFERENCES feeds.feeds (id),
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feed_id, user_id)
);

CREATE INDEX likes_user_idx ON feeds.likes (user_id, feed_id);

CREATE TABLE feeds.comments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_id     bigint      NOT NULL REFERENCES feeds.feeds (id),
    user_id     bigint      NOT NULL,
    content     text        NOT NULL,
    reply_to_id bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE INDEX comments_feed_idx ON feeds.comments (feed_id, id DESC) WHERE deleted_at IS NULL;

-- +goose Down
DROP SCHEMA feeds CASCADE;
