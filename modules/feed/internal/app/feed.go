package app

import (
	"time"

	"github.com/parley-im/parley/modules/feed/internal/db"
)

// Feed is a feed as the module answers it, with its media and whether the
// caller likes it; media URLs are links, ready for the wire.
type Feed struct {
	ID, UserID                         uint64
	Type                               int16
	Content                            string
	LikeCount, ViewCount, CommentCount int64
	// Operator is the admin who last reviewed the feed (0: none).
	Operator               uint64
	Remark                 string
	IsEnable, ReviewStatus int16
	Hot                    int64
	CreatedAt, UpdatedAt   time.Time
	Images                 []Image
	Video                  *Video
	Liked                  bool // by the caller
}

// Image is one of an image feed's pictures.
type Image struct {
	ID, FeedID           uint64
	URL                  string
	CreatedAt, UpdatedAt time.Time
}

// Video is a video feed's video.
type Video struct {
	ID, FeedID           uint64
	URL, CoverURL        string
	Width, Height        int64
	Duration             float64 // seconds
	CreatedAt, UpdatedAt time.Time
}

// Comment is a comment on a feed.
type Comment struct {
	ID, FeedID, UserID uint64
	Content            string
	ReplyToID          uint64 // 0: a comment on the feed itself
	CreatedAt          time.Time
}

// feedOf is a stored feed as the module answers it, its media not attached.
func feedOf(f db.FeedsFeed) Feed {
	return Feed{
		ID: f.ID, UserID: f.UserID, Type: f.Type, Content: f.Content,
		LikeCount: f.LikeCount, ViewCount: f.ViewCount, CommentCount: f.CommentCount,
		Operator: f.Operator, Remark: f.Remark, IsEnable: f.IsEnable, ReviewStatus: f.ReviewStatus,
		Hot: f.Hot, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt,
	}
}

// imageOf is a stored image, its URL rendered by link.
func imageOf(img db.FeedsImage, link func(string) string) Image {
	return Image{ID: img.ID, FeedID: img.FeedID, URL: link(img.ImgUrl), CreatedAt: img.CreatedAt, UpdatedAt: img.UpdatedAt}
}

// videoOf is a stored video, its URLs rendered by link.
func videoOf(v db.FeedsVideo, link func(string) string) Video {
	return Video{
		ID: v.ID, FeedID: v.FeedID, URL: link(v.VideoUrl), CoverURL: link(v.CoverUrl),
		Width: v.Width, Height: v.Height, Duration: v.Duration, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
}

func commentOf(c db.FeedsComment) Comment {
	return Comment{ID: c.ID, FeedID: c.FeedID, UserID: c.UserID, Content: c.Content, ReplyToID: c.ReplyToID, CreatedAt: c.CreatedAt}
}
