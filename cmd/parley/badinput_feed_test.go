package main

import (
	"fmt"
	"testing"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/feedpb"
)

// badFeedCases are the FeedService's rows of badUnaryCases.
func badFeedCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	tenImages := make([]string, 10)
	for i := range tenImages {
		tenImages[i] = fmt.Sprintf("https://example.com/%d.png", i)
	}
	txt := func(content string) *feedpb.FeedCreateRequest {
		return &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Txt, Content: content}
	}
	add(feedpb.FeedService_FeedCreate_FullMethodName,
		badCase{name: "empty content", req: txt(""), code: IA, want: "content"},
		badCase{name: "blank content", req: txt(" \n "), code: IA, want: "content"},
		badCase{name: "content of 5001", req: txt(badRunes(5001)), code: IA, want: "content"},
		badCase{name: "content with NUL", req: txt("a\x00b"), code: IA, want: "content"},
		badCase{name: "content invalid UTF-8", req: badWire(badStr(2, "hi "+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "Txt with a resource", req: &feedpb.FeedCreateRequest{Content: "x", Resource: []string{"https://example.com/a.png"}}, code: IA, want: "resource"},
		badCase{name: "Image without resources", req: &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image}, code: IA, want: "resource"},
		badCase{name: "Image with 10", req: &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: tenImages}, code: IA, want: "resource"},
		badCase{name: "Image javascript url", req: &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{"javascript:alert(1)"}}, code: IA, want: "resource[0]"},
		badCase{name: "Image url with NUL", req: &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Image, Resource: []string{"https://example.com/\x00"}}, code: IA, want: "resource[0]"},
		badCase{name: "Video with 2", req: &feedpb.FeedCreateRequest{Type: feedpb.FeedType_Video, Resource: []string{"https://example.com/a.mp4", "https://example.com/b.mp4"}}, code: IA, want: "resource"},
		badCase{name: "unknown type", req: &feedpb.FeedCreateRequest{Type: 7, Content: "x"}, code: IA, want: "type"},
		badCase{name: "negative type", req: &feedpb.FeedCreateRequest{Type: -1, Content: "x"}, code: IA, want: "type"},
		badCase{name: "over the receive limit", req: txt(huge), code: RE, want: tooLarge},
	)
	add(feedpb.FeedService_FeedEdit_FullMethodName,
		badCase{name: "id 0", req: &feedpb.FeedEditRequest{Content: "x"}, code: IA, want: "id"},
		badCase{name: "id max", req: &feedpb.FeedEditRequest{Id: badMaxID, Content: "x"}, code: NF, want: "feed"},
		badCase{name: "content of 5001", req: &feedpb.FeedEditRequest{Id: f.feed, Content: badRunes(5001)}, code: IA, want: "content"},
		badCase{name: "content with NUL", req: &feedpb.FeedEditRequest{Id: f.feed, Content: "\x00"}, code: IA, want: "content"},
		badCase{name: "unknown type", req: &feedpb.FeedEditRequest{Id: f.feed, Type: 3, Content: "x"}, code: IA, want: "type"},
	)
	for _, m := range []string{feedpb.FeedService_FeedLike_FullMethodName, feedpb.FeedService_FeedUnLike_FullMethodName,
		feedpb.FeedService_FeedGet_FullMethodName, feedpb.FeedService_FeedDelete_FullMethodName} {
		add(m,
			badCase{name: "id 0", req: badWire(), code: IA, want: "id"},
			badCase{name: "id max", req: badWire(badVarint(1, badMaxID)), code: NF, want: "feed"},
		)
	}
	add(feedpb.FeedService_FeedOwn_FullMethodName,
		badCase{name: "unknown review_status", req: &feedpb.FeedOwnRequest{ReviewStatus: 42}, code: IA, want: "review_status"},
		badCase{name: "keyword of 101", req: &feedpb.FeedOwnRequest{Keyword: badRunes(101)}, code: IA, want: "keyword"},
		badCase{name: "keyword with NUL", req: &feedpb.FeedOwnRequest{Keyword: "\x00"}, code: IA, want: "keyword"},
		badCase{name: "keyword of 100 (maximal)", req: &feedpb.FeedOwnRequest{Keyword: badRunes(100)}, code: OK, check: badFeedsFound()},
		badCase{name: "last_id and num max", req: &feedpb.FeedOwnRequest{LastId: badMaxID, Num: badMaxID}, code: OK, check: badFeedNum(100)},
	)
	for _, k := range badMetaKeywords {
		add(feedpb.FeedService_FeedOwn_FullMethodName, badCase{name: "keyword " + k,
			req: &feedpb.FeedOwnRequest{Keyword: k}, code: OK, check: badFeedsFound(f.metaFeed)})
		add(feedpb.FeedService_FeedQuery_FullMethodName, badCase{name: "keyword " + k,
			req: &feedpb.FeedQueryRequest{Keyword: k}, code: OK, check: badFeedsFound(f.metaFeed)})
	}
	add(feedpb.FeedService_FeedQuery_FullMethodName,
		badCase{name: "keyword of 101", req: &feedpb.FeedQueryRequest{Keyword: badRunes(101)}, code: IA, want: "keyword"},
		badCase{name: "keyword with NUL", req: &feedpb.FeedQueryRequest{Keyword: "a\x00"}, code: IA, want: "keyword"},
		badCase{name: "keyword invalid UTF-8", req: badWire(badStr(1, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "keyword of 100 (maximal)", req: &feedpb.FeedQueryRequest{Keyword: badRunes(100)}, code: OK, check: badFeedsFound()},
		badCase{name: "last_id and num max", req: &feedpb.FeedQueryRequest{LastId: badMaxID, Num: badMaxID}, code: OK, check: badFeedNum(100)},
		badCase{name: "user_id max", req: &feedpb.FeedQueryRequest{UserId: badMaxID}, code: OK, check: badFeedsFound()},
		badCase{name: "user_id, last_id and num max with a keyword", req: &feedpb.FeedQueryRequest{UserId: badMaxID, LastId: badMaxID, Num: badMaxID, Keyword: "x"}, code: OK, check: badFeedsFound()},
	)
	add(feedpb.FeedService_FeedFollow_FullMethodName,
		badCase{name: "last_id and num max", req: &feedpb.FeedFollowRequest{LastId: badMaxID, Num: badMaxID}, code: OK, check: badFeedNum(100)},
	)
	add(feedpb.FeedService_FeedRecommend_FullMethodName,
		badCase{name: "num max", req: &feedpb.FeedRecommendRequest{Num: badMaxID}, code: OK, check: badFeedNum(100)},
	)
	add(feedpb.FeedService_FeedReview_FullMethodName,
		badCase{name: "id 0", as: "root", req: &feedpb.FeedReviewRequest{ReviewStatus: commonpb.ReviewStatus_ReviewPass}, code: IA, want: "id"},
		badCase{name: "id max", as: "root", req: &feedpb.FeedReviewRequest{Id: badMaxID, ReviewStatus: commonpb.ReviewStatus_ReviewPass}, code: NF, want: "feed"},
		badCase{name: "ReviewInit", as: "root", req: &feedpb.FeedReviewRequest{Id: f.feed}, code: IA, want: "review_status"},
		badCase{name: "unknown review_status", as: "root", req: &feedpb.FeedReviewRequest{Id: f.feed, ReviewStatus: 99}, code: IA, want: "review_status"},
		badCase{name: "remark of 1001", as: "root", req: &feedpb.FeedReviewRequest{Id: f.feed, ReviewStatus: commonpb.ReviewStatus_ReviewFail, Remark: badRunes(1001)}, code: IA, want: "remark"},
		badCase{name: "remark with NUL", as: "root", req: &feedpb.FeedReviewRequest{Id: f.feed, ReviewStatus: commonpb.ReviewStatus_ReviewFail, Remark: "\x00"}, code: IA, want: "remark"},
		badCase{name: "remark invalid UTF-8", as: "root", req: badWire(badVarint(1, f.feed), badVarint(2, 3), badStr(3, bad)), code: IA, want: "invalid UTF-8"},
	)
	add(feedpb.FeedService_FeedCommentCreate_FullMethodName,
		badCase{name: "feed_id 0", req: &feedpb.FeedCommentCreateRequest{Content: "x"}, code: IA, want: "feed_id"},
		badCase{name: "feed_id max", req: &feedpb.FeedCommentCreateRequest{FeedId: badMaxID, Content: "x"}, code: NF, want: "feed"},
		badCase{name: "empty content", req: &feedpb.FeedCommentCreateRequest{FeedId: f.feed}, code: IA, want: "content"},
		badCase{name: "content of 1001", req: &feedpb.FeedCommentCreateRequest{FeedId: f.feed, Content: badRunes(1001)}, code: IA, want: "content"},
		badCase{name: "content with NUL", req: &feedpb.FeedCommentCreateRequest{FeedId: f.feed, Content: "\x00x"}, code: IA, want: "content"},
		badCase{name: "content invalid UTF-8", req: badWire(badVarint(1, f.feed), badStr(2, bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "reply_to_id max", req: &feedpb.FeedCommentCreateRequest{FeedId: f.feed, Content: "x", ReplyToId: badMaxID}, code: IA, want: "reply_to_id"},
	)
	add(feedpb.FeedService_FeedCommentList_FullMethodName,
		badCase{name: "feed_id 0", req: &feedpb.FeedCommentListRequest{}, code: IA, want: "feed_id"},
		badCase{name: "feed_id max", req: &feedpb.FeedCommentListRequest{FeedId: badMaxID}, code: NF, want: "feed"},
		badCase{name: "last_id and num max", req: &feedpb.FeedCommentListRequest{FeedId: f.feed, LastId: badMaxID, Num: badMaxID}, code: OK, check: badNum(100, &feedpb.FeedCommentListResponse{})},
	)
	add(feedpb.FeedService_FeedCommentDelete_FullMethodName,
		badCase{name: "id 0", req: &feedpb.FeedCommentDeleteRequest{}, code: IA, want: "id"},
		badCase{name: "id max", req: &feedpb.FeedCommentDeleteRequest{Id: badMaxID}, code: NF, want: "comment"},
	)
	return table
}
