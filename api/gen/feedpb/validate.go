package feedpb

// Request validators, called by the validation interceptor before a handler
// runs. Hand-written; buf generates the rest of this package.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parley-im/parley/api/gen/commonpb"
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
func validatePost(t FeedType, content string, resources []string) error {
	switch t {
	case FeedType_Txt:
		if err := validate.Text("content", strings.TrimSpace(content), 1, MaxContentLength); err != nil {
			return err
		}
		if len(resources) > 0 {
			return errors.New("resource: a Txt feed has none")
		}
		return nil
	case FeedType_Image:
		if len(resources) < 1 || len(resources) > MaxImages {
			return fmt.Errorf("resource: an Image feed has 1–%d image URLs", MaxImages)
		}
	case FeedType_Video:
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

func (r *FeedCreateRequest) Validate() error {
	return validatePost(r.GetType(), r.GetContent(), r.GetResource())
}

func (r *FeedEditRequest) Validate() error {
	if err := requireID("id", r.GetId()); err != nil {
		return err
	}
	return validatePost(r.GetType(), r.GetContent(), r.GetResource())
}

func (r *FeedGetRequest) Validate() error    { return requireID("id", r.GetId()) }
func (r *FeedDeleteRequest) Validate() error { return requireID("id", r.GetId()) }
func (r *FeedLikeRequest) Validate() error   { return requireID("id", r.GetId()) }
func (r *FeedUnLikeRequest) Validate() error { return requireID("id", r.GetId()) }

func (r *FeedOwnRequest) Validate() error {
	if _, ok := commonpb.ReviewStatus_name[int32(r.GetReviewStatus())]; !ok {
		return errors.New("review_status: must be a defined ReviewStatus")
	}
	return validateKeyword(r.GetKeyword())
}

func (r *FeedQueryRequest) Validate() error {
	return validateKeyword(r.GetKeyword())
}

func (r *FeedReviewRequest) Validate() error {
	if err := requireID("id", r.GetId()); err != nil {
		return err
	}
	if s := r.GetReviewStatus(); s != commonpb.ReviewStatus_ReviewPass && s != commonpb.ReviewStatus_ReviewFail {
		return errors.New("review_status: must be ReviewPass or ReviewFail")
	}
	return validate.Text("remark", r.GetRemark(), 0, MaxRemarkLength)
}

func (r *FeedCommentCreateRequest) Validate() error {
	if err := requireID("feed_id", r.GetFeedId()); err != nil {
		return err
	}
	return validate.Text("content", strings.TrimSpace(r.GetContent()), 1, MaxCommentLength)
}

func (r *FeedCommentListRequest) Validate() error {
	return requireID("feed_id", r.GetFeedId())
}

func (r *FeedCommentDeleteRequest) Validate() error { return requireID("id", r.GetId()) }
