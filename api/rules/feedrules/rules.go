// Package feedrules holds the rules of feed.FeedService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package feedrules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxContentLength = 5000
	MaxImages        = 9
	MaxCommentLength = 1000
	MaxKeywordLength = 100
	MaxRemarkLength  = 1000
)

// validatePost checks a feed's type, content and resources together. Content
// is measured and stored trimmed.
func validatePost(t feedpb.FeedType, content string, resources []string) error {
	switch t {
	case feedpb.FeedType_Txt:
		if err := validate.Text("content", strings.TrimSpace(content), 1, MaxContentLength); err != nil {
			return err
		}
		if len(resources) > 0 {
			return errors.New("resource: a Txt feed has none")
		}
		return nil
	case feedpb.FeedType_Image:
		if len(resources) < 1 || len(resources) > MaxImages {
			return fmt.Errorf("resource: an Image feed has 1–%d image URLs", MaxImages)
		}
	case feedpb.FeedType_Video:
		if len(resources) != 1 {
			return errors.New("resource: a Video feed has exactly one video URL")
		}
	default:
		return errors.New("type: must be Txt, Image or Video")
	}
	for i, url := range resources {
		if err := validate.HTTPURL(fmt.Sprintf("resource[%d]", i), url); err != nil {
			return err
		}
	}
	return validate.Text("content", strings.TrimSpace(content), 0, MaxContentLength)
}

func requireID(field string, id uint64) error {
	if id == 0 {
		return fmt.Errorf("%s: is required", field)
	}
	return nil
}

func validateKeyword(keyword string) error {
	return validate.Text("keyword", strings.TrimSpace(keyword), 0, MaxKeywordLength)
}

func checkFeedCreateRequest(r *feedpb.FeedCreateRequest) error {
	return validatePost(r.GetType(), r.GetContent(), r.GetResource())
}

func checkFeedEditRequest(r *feedpb.FeedEditRequest) error {
	if err := requireID("id", r.GetId()); err != nil {
		return err
	}
	return validatePost(r.GetType(), r.GetContent(), r.GetResource())
}

func checkFeedGetRequest(r *feedpb.FeedGetRequest) error       { return requireID("id", r.GetId()) }
func checkFeedDeleteRequest(r *feedpb.FeedDeleteRequest) error { return requireID("id", r.GetId()) }
func checkFeedLikeRequest(r *feedpb.FeedLikeRequest) error     { return requireID("id", r.GetId()) }
func checkFeedUnLikeRequest(r *feedpb.FeedUnLikeRequest) error { return requireID("id", r.GetId()) }

func checkFeedOwnRequest(r *feedpb.FeedOwnRequest) error {
	if _, ok := commonpb.ReviewStatus_name[int32(r.GetReviewStatus())]; !ok {
		return errors.New("review_status: must be a defined ReviewStatus")
	}
	return validateKeyword(r.GetKeyword())
}

// checkFeedQueryRequest: any user_id is fine (0 is everyone's feeds; an
// unknown user has none).
func checkFeedQueryRequest(r *feedpb.FeedQueryRequest) error {
	return validateKeyword(r.GetKeyword())
}

func checkFeedReviewRequest(r *feedpb.FeedReviewRequest) error {
	if err := requireID("id", r.GetId()); err != nil {
		return err
	}
	if s := r.GetReviewStatus(); s != commonpb.ReviewStatus_ReviewPass && s != commonpb.ReviewStatus_ReviewFail {
		return errors.New("review_status: must be ReviewPass or ReviewFail")
	}
	return validate.Text("remark", r.GetRemark(), 0, MaxRemarkLength)
}

func checkFeedCommentCreateRequest(r *feedpb.FeedCommentCreateRequest) error {
	if err := requireID("feed_id", r.GetFeedId()); err != nil {
		return err
	}
	return validate.Text("content", strings.TrimSpace(r.GetContent()), 1, MaxCommentLength)
}

func checkFeedCommentListRequest(r *feedpb.FeedCommentListRequest) error {
	return requireID("feed_id", r.GetFeedId())
}

func checkFeedCommentDeleteRequest(r *feedpb.FeedCommentDeleteRequest) error {
	return requireID("id", r.GetId())
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkFeedCreateRequest),
	validate.For(checkFeedEditRequest),
	validate.For(checkFeedGetRequest),
	validate.For(checkFeedDeleteRequest),
	validate.For(checkFeedLikeRequest),
	validate.For(checkFeedUnLikeRequest),
	validate.For(checkFeedOwnRequest),
	validate.For(checkFeedQueryRequest),
	validate.For(checkFeedReviewRequest),
	validate.For(checkFeedCommentCreateRequest),
	validate.For(checkFeedCommentListRequest),
	validate.For(checkFeedCommentDeleteRequest),
	// Timelines: paging clamps page and size.
	validate.None[*feedpb.FeedFollowRequest](),
	validate.None[*feedpb.FeedRecommendRequest](),
}
