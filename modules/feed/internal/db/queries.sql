-- Queries return whole feeds.feeds rows (one Go type, db.FeedsFeed).
-- Keyset cursors: a page holds rows with id < @before_id, newest first.

-- name: CreateFeed :one
INSERT INTO feeds.feeds (user_id, type, content, content_folded, review_status)
VALUES (@user_id, @type, @content, @content_folded, @review_status)
RETURNING *;

-- name: GetFeed :one
SELECT * FROM feeds.feeds WHERE id = @id AND deleted_at IS NULL;

-- name: LockFeed :one
SELECT * FROM feeds.feeds WHERE id = @id AND deleted_at IS NULL FOR NO KEY UPDATE;

-- name: EditFeed :one
UPDATE feeds.feeds
SET type = @type, content = @content, content_folded = @content_folded,
    review_status = @review_status, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: DeleteFeed :exec
UPDATE feeds.feeds SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: ReviewFeed :one
UPDATE feeds.feeds
SET review_status = @review_status, operator = @operator, remark = @remark, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: AddImages :exec
INSERT INTO feeds.images (feed_id, img_url)
SELECT @feed_id, url FROM unnest(@urls::text[]) WITH ORDINALITY AS u(url, n) ORDER BY n;

-- name: AddVideo :exec
INSERT INTO feeds.videos (feed_id, video_url) VALUES (@feed_id, @video_url);

-- name: RemoveImages :exec
UPDATE feeds.images SET deleted_at = now(), updated_at = now()
WHERE feed_id = @feed_id AND deleted_at IS NULL;

-- name: RemoveVideos :exec
UPDATE feeds.videos SET deleted_at = now(), updated_at = now()
WHERE feed_id = @feed_id AND deleted_at IS NULL;

-- name: ImagesOf :many
SELECT * FROM feeds.images
WHERE feed_id = ANY(@feed_ids::bigint[]) AND deleted_at IS NULL
ORDER BY feed_id, id;

-- name: VideosOf :many
SELECT * FROM feeds.videos
WHERE feed_id = ANY(@feed_ids::bigint[]) AND deleted_at IS NULL
ORDER BY feed_id, id;

-- name: LikedAmong :many
SELECT feed_id FROM feeds.likes
WHERE user_id = @user_id AND feed_id = ANY(@feed_ids::bigint[]);

-- name: Like :execrows
INSERT INTO feeds.likes (feed_id, user_id) VALUES (@feed_id, @user_id)
ON CONFLICT DO NOTHING;

-- name: Unlike :execrows
DELETE FROM feeds.likes WHERE feed_id = @feed_id AND user_id = @user_id;

-- Likes and new comments need a public feed: checked again here, under the
-- row lock the update takes, so one racing a delete or a review fails.
-- name: AdjustLikeCount :execrows
UPDATE feeds.feeds SET like_count = like_count + @delta::bigint WHERE id = @id AND is_public;

-- name: IncrementCommentCount :execrows
UPDATE feeds.feeds SET comment_count = comment_count + 1 WHERE id = @id AND is_public;

-- name: DecrementCommentCount :exec
UPDATE feeds.feeds SET comment_count = comment_count - 1 WHERE id = @id;

-- name: AddDailyViews :many
-- Records the views; those not yet recorded for their day add to the feeds'
-- view_count, stamped with the flush's generation. Returns what each feed got.
WITH counted AS (
    INSERT INTO feeds.daily_views (day, feed_id, viewer_id)
    SELECT unnest(@days::date[]), unnest(@feed_ids::bigint[]), unnest(@viewer_ids::bigint[])
    ON CONFLICT DO NOTHING
    RETURNING feed_id
), per_feed AS (
    SELECT feed_id, count(*) AS n FROM counted GROUP BY feed_id
)
UPDATE feeds.feeds f
SET view_count = f.view_count + p.n, view_flush_gen = @gen::bigint
FROM per_feed p
WHERE f.id = p.feed_id
RETURNING f.id, p.n;

-- name: PruneDailyViews :exec
DELETE FROM feeds.daily_views WHERE day < @before::date;

-- name: ListOwn :many
SELECT * FROM feeds.feeds
WHERE user_id = @user_id AND deleted_at IS NULL AND id < @before_id
  AND (@review_status::smallint = 0 OR review_status = @review_status::smallint)
  AND (@keyword::text = '' OR strpos(content_folded, @keyword::text) > 0)
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- name: CountOwn :one
SELECT count(*) FROM feeds.feeds
WHERE user_id = @user_id AND deleted_at IS NULL
  AND (@review_status::smallint = 0 OR review_status = @review_status::smallint)
  AND (@keyword::text = '' OR strpos(content_folded, @keyword::text) > 0);

-- name: ListPublic :many
SELECT * FROM feeds.feeds
WHERE is_public AND id < @before_id
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- The lowest id among the newest @window public feeds below @before_id:
-- the floor of the window FeedQuery scans newest-first.
-- name: RecentPublicFloor :one
SELECT coalesce(min(id), 0)::bigint FROM (
    SELECT id FROM feeds.feeds WHERE is_public AND id < @before_id ORDER BY id DESC LIMIT @window_size::bigint
) AS recent;

-- Matches within [@floor_id, @before_id), newest first, walking the id index:
-- no gram condition, so the planner cannot choose to read every match.
-- name: SearchPublicRecent :many
SELECT * FROM feeds.feeds
WHERE is_public AND id < @before_id AND id >= @floor_id
  AND strpos(content_folded, @keyword::text) > 0
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- The gram containment narrows through the GIN index; strpos decides.
-- name: SearchPublic :many
SELECT * FROM feeds.feeds
WHERE is_public AND id < @before_id
  AND search.grams(content_folded) @> search.keyword_grams(@keyword::text)
  AND strpos(content_folded, @keyword::text) > 0
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- One author's public feeds (FeedQuery's user_id), keyword optional, newest
-- first along feeds_public_author_idx: the walk is bounded by the author's
-- public feeds, so a keyword is decided by strpos alone.
-- name: ListPublicByAuthor :many
SELECT * FROM feeds.feeds
WHERE is_public AND user_id = @user_id AND id < @before_id
  AND (@keyword::text = '' OR strpos(content_folded, @keyword::text) > 0)
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- name: ListByAuthors :many
SELECT * FROM feeds.feeds
WHERE is_public AND id < @before_id AND user_id = ANY(@author_ids::bigint[])
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- name: ListHot :many
SELECT * FROM feeds.feeds
WHERE is_public AND user_id <> @exclude_user_id
ORDER BY hot DESC, id DESC
LIMIT @row_limit::bigint;

-- name: CreateComment :one
INSERT INTO feeds.comments (feed_id, user_id, content, reply_to_id)
VALUES (@feed_id, @user_id, @content, @reply_to_id)
RETURNING *;

-- name: GetComment :one
SELECT * FROM feeds.comments WHERE id = @id AND deleted_at IS NULL;

-- name: DeleteComment :execrows
UPDATE feeds.comments SET deleted_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: ListComments :many
SELECT * FROM feeds.comments
WHERE feed_id = @feed_id AND deleted_at IS NULL AND id < @before_id
ORDER BY id DESC
LIMIT @row_limit::bigint;
