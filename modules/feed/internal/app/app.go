// Package app is the feed module's behaviour: posts and their media,
// visibility and moderation, likes, views, comments and the timelines.
package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/modules/feed/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/media"
	"github.com/parley-im/parley/platform/textsearch"
)

// Moderation modes.
const (
	ModerationOff = "off" // new and edited feeds are public at once
	ModerationPre = "pre" // new and edited feeds wait for an admin's review
)

// Config tunes the module.
type Config struct {
	Moderation string
	// ViewFlushInterval is how often counted views are written; 0 means a second.
	ViewFlushInterval time.Duration
}

// Errors the module returns; the messages are what clients see.
var (
	ErrNotFound        = apperr.NotFound("feed not found")
	ErrCommentNotFound = apperr.NotFound("comment not found")
	ErrNotOwner        = apperr.PermissionDenied("only the feed's owner may do this")
	ErrNotOwnerOrAdmin = apperr.PermissionDenied("only the feed's owner or an admin may do this")
	ErrNotAdmin        = apperr.PermissionDenied("only admins may review feeds")
	ErrNotCommentOwner = apperr.PermissionDenied("only the comment's author, the feed's owner or an admin may delete it")
	ErrBadReplyTo      = apperr.InvalidArgument("reply_to_id: no such comment on this feed")
)

// Service implements the module over its schema.
type Service struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	users Users
	cfg   Config
	views *viewCounter
	links *media.Links
}

func New(pool *pgxpool.Pool, users Users, links *media.Links, cfg Config, log zerolog.Logger) (*Service, error) {
	switch cfg.Moderation {
	case "":
		cfg.Moderation = ModerationOff
	case ModerationOff, ModerationPre:
	default:
		return nil, fmt.Errorf("feed moderation %q: want off or pre", cfg.Moderation)
	}
	if cfg.ViewFlushInterval <= 0 {
		cfg.ViewFlushInterval = time.Second
	}
	q := db.New(pool)
	return &Service{pool: pool, q: q, users: users, cfg: cfg, links: links, views: newViewCounter(q, log, time.Now)}, nil
}

// Run writes counted views until ctx ends, then writes what remains.
func (s *Service) Run(ctx context.Context) {
	s.views.run(ctx, s.cfg.ViewFlushInterval)
}

// Post is a validated feed body.
type Post struct {
	Type      feedpb.FeedType
	Content   string
	Resources []string
}

// newReviewStatus is where new feeds start.
func (s *Service) newReviewStatus() int16 {
	if s.cfg.Moderation == ModerationPre {
		return int16(commonpb.ReviewStatus_ReviewTo)
	}
	return int16(commonpb.ReviewStatus_ReviewPass)
}

// visible reports whether caller may see f: public feeds to everyone,
// others to their owner and admins only.
func visible(f db.FeedsFeed, caller auth.Identity) bool {
	return f.IsPublic || f.UserID == caller.UserID || caller.Admin
}

func (s *Service) Create(ctx context.Context, caller auth.Identity, p Post) (Feed, error) {
	if err := s.acceptMedia(&p); err != nil {
		return Feed{}, err
	}
	var f db.FeedsFeed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		f, err = q.CreateFeed(ctx, db.CreateFeedParams{
			UserID: caller.UserID, Type: int16(p.Type), Content: strings.TrimSpace(p.Content),
			ContentFolded: textsearch.Fold(p.Content), ReviewStatus: s.newReviewStatus(),
		})
		if err != nil {
			return err
		}
		return addMedia(ctx, q, f.ID, p)
	})
	if err != nil {
		return Feed{}, fmt.Errorf("create feed: %w", err)
	}
	return s.oneWithMedia(ctx, caller, f)
}

func addMedia(ctx context.Context, q *db.Queries, feedID uint64, p Post) error {
	switch p.Type {
	case feedpb.FeedType_Image:
		return q.AddImages(ctx, db.AddImagesParams{FeedID: feedID, Urls: p.Resources})
	case feedpb.FeedType_Video:
		return q.AddVideo(ctx, db.AddVideoParams{FeedID: feedID, VideoUrl: p.Resources[0]})
	}
	return nil
}

// acceptMedia stores links to this server's media as their keys; such a
// link must open (media.Links.Accept), so a hash alone publishes nothing.
func (s *Service) acceptMedia(p *Post) error {
	resources := make([]string, len(p.Resources))
	for i, r := range p.Resources {
		stored, err := s.links.Accept(fmt.Sprintf("resource[%d]", i), r)
		if err != nil {
			return apperr.InvalidArgument("%s", err)
		}
		resources[i] = stored
	}
	p.Resources = resources
	return nil
}

// Edit replaces the feed's content and media; owner only.
func (s *Service) Edit(ctx context.Context, caller auth.Identity, id uint64, p Post) error {
	if err := s.acceptMedia(&p); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		f, err := lockVisible(ctx, q, caller, id)
		if err != nil {
			return err
		}
		if f.UserID != caller.UserID {
			return ErrNotOwner
		}
		// Under pre moderation an edit goes back to review; without it, the
		// edit keeps the feed's review state, so an admin's rejection stands.
		status := f.ReviewStatus
		if s.cfg.Moderation == ModerationPre {
			status = int16(commonpb.ReviewStatus_ReviewTo)
		}
		if _, err := q.EditFeed(ctx, db.EditFeedParams{
			ID: f.ID, Type: int16(p.Type), Content: strings.TrimSpace(p.Content),
			ContentFolded: textsearch.Fold(p.Content), ReviewStatus: status,
		}); err != nil {
			return err
		}
		if err := q.RemoveImages(ctx, f.ID); err != nil {
			return err
		}
		if err := q.RemoveVideos(ctx, f.ID); err != nil {
			return err
		}
		return addMedia(ctx, q, f.ID, p)
	})
	if err != nil {
		return fmt.Errorf("edit feed %d: %w", id, err)
	}
	return nil
}

// lockVisible locks a live feed the caller may see; others are NotFound.
func lockVisible(ctx context.Context, q *db.Queries, caller auth.Identity, id uint64) (db.FeedsFeed, error) {
	f, err := q.LockFeed(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(f, caller)) {
		return db.FeedsFeed{}, ErrNotFound
	}
	return f, err
}

// Delete soft-deletes the feed; its owner or an admin.
func (s *Service) Delete(ctx context.Context, caller auth.Identity, id uint64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		f, err := lockVisible(ctx, q, caller, id)
		if err != nil {
			return err
		}
		if f.UserID != caller.UserID && !caller.Admin {
			return ErrNotOwnerOrAdmin
		}
		return q.DeleteFeed(ctx, f.ID)
	})
	if err != nil {
		return fmt.Errorf("delete feed %d: %w", id, err)
	}
	return nil
}

// Review sets a feed's review status; admins only.
func (s *Service) Review(ctx context.Context, caller auth.Identity, id uint64, status commonpb.ReviewStatus, remark string) error {
	if !caller.Admin {
		return ErrNotAdmin
	}
	_, err := s.q.ReviewFeed(ctx, db.ReviewFeedParams{
		ID: id, ReviewStatus: int16(status), Operator: caller.UserID, Remark: remark,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("review feed %d: %w", id, err)
	}
	return nil
}

// Get returns a feed the caller may see and counts the view (once per
// viewer and day; see viewCounter).
func (s *Service) Get(ctx context.Context, caller auth.Identity, id uint64) (Feed, error) {
	f, err := s.q.GetFeed(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(f, caller)) {
		return Feed{}, ErrNotFound
	}
	if err != nil {
		return Feed{}, fmt.Errorf("get feed %d: %w", id, err)
	}
	s.views.add(f.ID, caller.UserID)
	return s.oneWithMedia(ctx, caller, f)
}

// FeedAuthor is the author of a feed viewer may see, else ErrNotFound;
// unlike Get it counts no view: what a report of it needs.
func (s *Service) FeedAuthor(ctx context.Context, viewer auth.Identity, id uint64) (uint64, error) {
	f, err := s.q.GetFeed(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(f, viewer)) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("get feed %d: %w", id, err)
	}
	return f.UserID, nil
}

// Like records the caller's like of a public feed; liking twice is one like.
func (s *Service) Like(ctx context.Context, caller auth.Identity, id uint64) error {
	return s.changeLike(ctx, caller, id, true)
}

// Unlike removes the caller's like; not having liked is no error.
func (s *Service) Unlike(ctx context.Context, caller auth.Identity, id uint64) error {
	return s.changeLike(ctx, caller, id, false)
}

// changeLike adds or removes the like row and moves like_count with it in
// one transaction, so the count always equals the rows.
func (s *Service) changeLike(ctx context.Context, caller auth.Identity, id uint64, like bool) error {
	if err := s.requirePublic(ctx, id); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		params := db.LikeParams{FeedID: id, UserID: caller.UserID}
		var changed, delta int64
		var err error
		if like {
			changed, err = q.Like(ctx, params)
			delta = 1
		} else {
			changed, err = q.Unlike(ctx, db.UnlikeParams(params))
			delta = -1
		}
		if err != nil || changed == 0 {
			return err
		}
		adjusted, err := q.AdjustLikeCount(ctx, db.AdjustLikeCountParams{ID: id, Delta: delta})
		if err == nil && adjusted == 0 {
			return ErrNotFound // no longer public: the like row goes with the rollback
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("like feed %d: %w", id, err)
	}
	return nil
}

func (s *Service) requirePublic(ctx context.Context, id uint64) error {
	f, err := s.q.GetFeed(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !f.IsPublic) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get feed %d: %w", id, err)
	}
	return nil
}

// Cursor is a keyset page request: rows older than BeforeID (0: the newest).
type Cursor struct {
	LastID uint64
	Num    uint64
}

func (c Cursor) beforeID() uint64 {
	if c.LastID == 0 || c.LastID > math.MaxInt64 {
		return math.MaxInt64
	}
	return c.LastID
}

// Own lists the caller's own feeds in any review state, newest first.
func (s *Service) Own(ctx context.Context, caller auth.Identity, keyword string, status commonpb.ReviewStatus, c Cursor) ([]Feed, uint64, error) {
	keyword = textsearch.Fold(keyword)
	feeds, err := s.q.ListOwn(ctx, db.ListOwnParams{
		UserID: caller.UserID, BeforeID: c.beforeID(), ReviewStatus: int16(status),
		Keyword: keyword, RowLimit: int64(c.Num),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list own feeds: %w", err)
	}
	total, err := s.q.CountOwn(ctx, db.CountOwnParams{UserID: caller.UserID, ReviewStatus: int16(status), Keyword: keyword})
	if err != nil {
		return nil, 0, fmt.Errorf("count own feeds: %w", err)
	}
	out, err := s.withMedia(ctx, caller, feeds)
	return out, uint64(total), err
}

// Query lists public feeds whose content contains keyword (any feed when
// it is empty), newest first: authorID's alone when it is not 0 (a user's
// profile). The module does not know users: an unknown author, like a
// keyword that matches nothing, has no feeds. Blocks are not applied, as in
// the module's other lists: what is public is public to everyone.
func (s *Service) Query(ctx context.Context, caller auth.Identity, keyword string, authorID uint64, c Cursor) ([]Feed, error) {
	keyword = textsearch.Fold(keyword)
	var feeds []db.FeedsFeed
	var err error
	switch {
	case authorID != 0:
		feeds, err = s.q.ListPublicByAuthor(ctx, db.ListPublicByAuthorParams{
			UserID: authorID, BeforeID: c.beforeID(), Keyword: keyword, RowLimit: int64(c.Num),
		})
	case keyword == "":
		feeds, err = s.q.ListPublic(ctx, db.ListPublicParams{BeforeID: c.beforeID(), RowLimit: int64(c.Num)})
	default:
		feeds, err = s.search(ctx, keyword, c)
	}
	if err != nil {
		return nil, fmt.Errorf("query feeds: %w", err)
	}
	return s.withMedia(ctx, caller, feeds)
}

// searchWindow is how many of the newest public feeds a search scans in id
// order before it turns to the gram index.
const searchWindow = 5000

// search finds the newest public feeds containing keyword in two steps. A
// common keyword fills the page from the newest feeds: walking them in id
// order stops after a few rows. The gram index serves rarer ones, older
// than that window, where reading every match and keeping the newest is
// cheap. (Left to itself the planner cannot tell which case it is in, and
// reading every match of a common keyword takes seconds at a million feeds.)
func (s *Service) search(ctx context.Context, keyword string, c Cursor) ([]db.FeedsFeed, error) {
	minID, err := s.q.RecentPublicFloor(ctx, db.RecentPublicFloorParams{BeforeID: c.beforeID(), WindowSize: searchWindow})
	if err != nil {
		return nil, err
	}
	floor := uint64(minID) // an id (coalesce makes it bigint to sqlc)
	feeds, err := s.q.SearchPublicRecent(ctx, db.SearchPublicRecentParams{
		Keyword: keyword, BeforeID: c.beforeID(), FloorID: floor, RowLimit: int64(c.Num),
	})
	if err != nil || len(feeds) == int(c.Num) || floor == 0 {
		return feeds, err
	}
	older, err := s.q.SearchPublic(ctx, db.SearchPublicParams{Keyword: keyword, BeforeID: floor, RowLimit: int64(c.Num) - int64(len(feeds))})
	return append(feeds, older...), err
}

// Following lists the public feeds of the users the caller follows, newest first.
func (s *Service) Following(ctx context.Context, caller auth.Identity, c Cursor) ([]Feed, error) {
	authors, err := s.users.FollowingIDs(ctx, caller.UserID)
	if err != nil {
		return nil, err
	}
	if len(authors) == 0 {
		return nil, nil
	}
	feeds, err := s.q.ListByAuthors(ctx, db.ListByAuthorsParams{AuthorIds: database.BigintArray(authors), BeforeID: c.beforeID(), RowLimit: int64(c.Num)})
	if err != nil {
		return nil, fmt.Errorf("list followed feeds: %w", err)
	}
	return s.withMedia(ctx, caller, feeds)
}

// Recommend lists the hottest public feeds not the caller's own.
func (s *Service) Recommend(ctx context.Context, caller auth.Identity, num uint64) ([]Feed, error) {
	feeds, err := s.q.ListHot(ctx, db.ListHotParams{ExcludeUserID: caller.UserID, RowLimit: int64(num)})
	if err != nil {
		return nil, fmt.Errorf("recommend feeds: %w", err)
	}
	return s.withMedia(ctx, caller, feeds)
}

func (s *Service) oneWithMedia(ctx context.Context, caller auth.Identity, f db.FeedsFeed) (Feed, error) {
	out, err := s.withMedia(ctx, caller, []db.FeedsFeed{f})
	if err != nil {
		return Feed{}, err
	}
	return out[0], nil
}

// withMedia attaches images, video and the caller's likes to feeds, at most
// three queries for the whole page, and adds the views not yet written.
func (s *Service) withMedia(ctx context.Context, caller auth.Identity, feeds []db.FeedsFeed) ([]Feed, error) {
	if len(feeds) == 0 {
		return nil, nil
	}
	// Only what the page can have is looked up: text feeds have no media,
	// and nobody has liked a feed whose like_count is 0.
	var imageIDs, videoIDs, likedIDs []uint64
	for _, f := range feeds {
		switch feedpb.FeedType(f.Type) {
		case feedpb.FeedType_Image:
			imageIDs = append(imageIDs, f.ID)
		case feedpb.FeedType_Video:
			videoIDs = append(videoIDs, f.ID)
		}
		if f.LikeCount > 0 {
			likedIDs = append(likedIDs, f.ID)
		}
	}
	var (
		images []db.FeedsImage
		videos []db.FeedsVideo
		liked  []uint64
		err    error
	)
	if len(imageIDs) > 0 {
		if images, err = s.q.ImagesOf(ctx, database.BigintArray(imageIDs)); err != nil {
			return nil, fmt.Errorf("feed images: %w", err)
		}
	}
	if len(videoIDs) > 0 {
		if videos, err = s.q.VideosOf(ctx, database.BigintArray(videoIDs)); err != nil {
			return nil, fmt.Errorf("feed videos: %w", err)
		}
	}
	if len(likedIDs) > 0 {
		liked, err = s.q.LikedAmong(ctx, db.LikedAmongParams{UserID: caller.UserID, FeedIds: database.BigintArray(likedIDs)})
		if err != nil {
			return nil, fmt.Errorf("feed likes: %w", err)
		}
	}
	// Public feeds' media is public: links that do not expire.
	imagesOf := map[uint64][]Image{}
	for _, img := range images {
		imagesOf[img.FeedID] = append(imagesOf[img.FeedID], imageOf(img, s.links.RenderPublic))
	}
	videosOf := map[uint64]*Video{}
	for _, v := range videos {
		video := videoOf(v, s.links.RenderPublic)
		videosOf[v.FeedID] = &video
	}
	likedSet := map[uint64]bool{}
	for _, id := range liked {
		likedSet[id] = true
	}
	out := make([]Feed, len(feeds))
	for i, f := range feeds {
		out[i] = feedOf(f)
		out[i].ViewCount += s.views.unwritten(f.ID, f.ViewFlushGen)
		out[i].Images, out[i].Video, out[i].Liked = imagesOf[f.ID], videosOf[f.ID], likedSet[f.ID]
	}
	return out, nil
}
