package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/commonpb"
)

// badCommonCases are the CommonService's rows of badUnaryCases.
func badCommonCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	email := func(mutate func(r *commonpb.SendEmailRequest)) *commonpb.SendEmailRequest {
		r := &commonpb.SendEmailRequest{Receiver: map[string]string{"Ann": "ann@example.com"}, Subject: "hello", Content: "body"}
		mutate(r)
		return r
	}
	manyAddresses := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("User %d", i)] = fmt.Sprintf("user%d@example.com", i)
		}
		return m
	}
	add(commonpb.CommonService_SendEmail_FullMethodName,
		badCase{name: "no receiver", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Receiver = nil }), code: IA, want: "receiver"},
		badCase{name: "51 receivers", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Receiver = manyAddresses(51) }), code: IA, want: "receiver"},
		badCase{name: "51 cc", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Cc = manyAddresses(51) }), code: IA, want: "cc"},
		badCase{name: "not an address", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Receiver = map[string]string{"": "not an address"} }), code: IA, want: "receiver"},
		badCase{name: "address with header injection", as: "root", req: email(func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"": "ann@example.com\r\nBcc: eve@example.com"}
		}), code: IA, want: "receiver"},
		badCase{name: "address SQL", as: "root", req: email(func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"": "'; DROP TABLE common.emails;--"}
		}), code: IA, want: "receiver"},
		badCase{name: "address as the key (the map is name → address)", as: "root", req: email(func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"ann@example.com": "Ann"}
		}), code: IA, want: "receiver"},
		badCase{name: "an address twice", as: "root", req: email(func(r *commonpb.SendEmailRequest) {
			r.Receiver = map[string]string{"Ann": "ann@example.com", "Annie": "ANN@example.com"}
		}), code: IA, want: "more than once"},
		badCase{name: "receiver name with NUL", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Receiver = map[string]string{"A\x00": "ann@example.com"} }), code: IA, want: "receiver name"},
		badCase{name: "empty subject", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Subject = "" }), code: IA, want: "subject"},
		badCase{name: "subject of 201", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Subject = badRunes(201) }), code: IA, want: "subject"},
		badCase{name: "subject header injection", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Subject = "hi\r\nBcc: eve@example.com" }), code: IA, want: "subject"},
		badCase{name: "subject with NUL", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Subject = "hi\x00" }), code: IA, want: "subject"},
		badCase{name: "subject invalid UTF-8", as: "root", code: IA, want: "invalid UTF-8",
			req: badWire(badMsg(1, badWire(badStr(1, "Ann"), badStr(2, "ann@example.com"))), badStr(3, "hi "+bad))},
		badCase{name: "content over 100 KiB", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Content = badX(100<<10 + 1) }), code: IA, want: "content"},
		badCase{name: "content with NUL", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Content = "a\x00" }), code: IA, want: "content"},
		badCase{name: "over the receive limit", as: "root", req: email(func(r *commonpb.SendEmailRequest) { r.Content = huge }), code: RE, want: tooLarge},
	)
	badReportCases(add, f, huge, badReports(t, e, f))
	return table
}

// badReportFixtures are the reports the cases act on.
type badReportFixtures struct {
	open     uint64 // bob's report of alice
	resolved uint64 // bob's report of alice's feed, dismissed by root
}

// badReports files the reports of badReportFixtures.
func badReports(t *testing.T, e *badEnv, f badFixtures) badReportFixtures {
	t.Helper()
	ctx := context.Background()
	common := commonpb.NewCommonServiceClient(e.conn)
	open, err := common.ReportContent(e.badCtx(ctx, "bob"), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_USER, Id: f.alice, Reason: "spam"})
	require.NoError(t, err)
	resolved, err := common.ReportContent(e.badCtx(ctx, "bob"), &commonpb.ReportContentRequest{Kind: commonpb.ReportKind_REPORT_KIND_FEED, Id: f.feed})
	require.NoError(t, err)
	_, err = common.ResolveReport(e.badCtx(ctx, "root"), &commonpb.ResolveReportRequest{
		Id: resolved.GetReport().GetId(), Action: commonpb.ReportAction_REPORT_ACTION_DISMISS,
	})
	require.NoError(t, err)
	return badReportFixtures{open: open.GetReport().GetId(), resolved: resolved.GetReport().GetId()}
}

// badReportToken is a ListReports page token: its version, then an id.
func badReportToken(version byte, id ...byte) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{version}, id...))
}

// badReportsListed checks a ListReports answer lists exactly want and is
// the last page.
func badReportsListed(want ...uint64) func(t *testing.T, raw badRaw) {
	return func(t *testing.T, raw badRaw) {
		var resp commonpb.ListReportsResponse
		badDecode(t, raw, &resp)
		var got []uint64
		for _, r := range resp.GetReport() {
			got = append(got, r.GetId())
		}
		require.Equal(t, want, got)
		require.Empty(t, resp.GetNextPageToken())
	}
}

// badReportCases are the rows of the report methods. alice owns f.group,
// f.feed and f.metaFeed; root commented f.comment; r's reports are bob's.
func badReportCases(add func(string, ...badCase), f badFixtures, huge string, r badReportFixtures) {
	const (
		user    = commonpb.ReportKind_REPORT_KIND_USER
		dismiss = commonpb.ReportAction_REPORT_ACTION_DISMISS
	)
	report := func(kind commonpb.ReportKind, id uint64, reason string) *commonpb.ReportContentRequest {
		return &commonpb.ReportContentRequest{Kind: kind, Id: id, Reason: reason}
	}
	add(commonpb.CommonService_ReportContent_FullMethodName,
		badCase{name: "empty", req: &commonpb.ReportContentRequest{}, code: IA, want: "kind: must be a ReportKind other than unspecified, not 0"},
		badCase{name: "kind unspecified", req: report(commonpb.ReportKind_REPORT_KIND_UNSPECIFIED, f.bob, "spam"), code: IA, want: "kind"},
		badCase{name: "kind 99", req: report(99, f.bob, "spam"), code: IA, want: "kind: must be a ReportKind other than unspecified, not 99"},
		badCase{name: "kind -1", req: badWire(badVarint(1, badMaxID), badVarint(2, f.bob)), code: IA, want: "not -1"},
		badCase{name: "id 0", req: report(user, 0, "spam"), code: IA, want: "id: is required"},
		badCase{name: "reason of 501", req: report(user, f.bob, badRunes(501)), code: IA, want: "reason: must be at most 500 characters"},
		badCase{name: "reason with NUL", req: report(user, f.bob, "spam\x00"), code: IA, want: "reason: must not contain NUL"},
		badCase{name: "reason invalid UTF-8", req: badWire(badVarint(1, uint64(user)), badVarint(2, f.bob), badStr(3, "spam "+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "over the receive limit", req: report(user, f.bob, huge), code: RE, want: tooLarge},
		badCase{name: "message id max", req: report(commonpb.ReportKind_REPORT_KIND_MESSAGE, badMaxID, ""), code: NF, want: "message not found"},
		badCase{name: "feed id max", req: report(commonpb.ReportKind_REPORT_KIND_FEED, badMaxID, ""), code: NF, want: "feed not found"},
		badCase{name: "comment id max", req: report(commonpb.ReportKind_REPORT_KIND_COMMENT, badMaxID, ""), code: NF, want: "comment not found"},
		badCase{name: "user id max", req: report(user, badMaxID, ""), code: NF, want: "user not found"},
		badCase{name: "group id max", req: report(commonpb.ReportKind_REPORT_KIND_GROUP, badMaxID, ""), code: NF, want: "group not found"},
		badCase{name: "oneself", req: report(user, f.alice, "spam"), code: IA, want: "your own content"},
		badCase{name: "one's own feed", req: report(commonpb.ReportKind_REPORT_KIND_FEED, f.metaFeed, "spam"), code: IA, want: "your own content"},
		badCase{name: "one's own group", req: report(commonpb.ReportKind_REPORT_KIND_GROUP, f.group, "spam"), code: IA, want: "your own content"},
		badCase{name: "one's own comment", as: "root", req: report(commonpb.ReportKind_REPORT_KIND_COMMENT, f.comment, "spam"), code: IA, want: "your own content"},
		// Reporting again answers the open report and writes nothing.
		badCase{name: "again, while open", as: "bob", req: report(user, f.alice, "spam again"), code: OK,
			check: func(t *testing.T, raw badRaw) {
				var resp commonpb.ReportContentResponse
				badDecode(t, raw, &resp)
				require.Equal(t, r.open, resp.GetReport().GetId())
				require.Equal(t, "spam", resp.GetReport().GetReason(), "the report as it was filed")
			}},
	)
	add(commonpb.CommonService_ListReports_FullMethodName,
		badCase{name: "page_size 501", as: "root", req: &commonpb.ListReportsRequest{PageSize: 501}, code: IA, want: "page_size: must be at most 500"},
		badCase{name: "page_size max", as: "root", req: &commonpb.ListReportsRequest{PageSize: math.MaxUint32}, code: IA, want: "page_size"},
		badCase{name: "page_token garbage", as: "root", req: &commonpb.ListReportsRequest{PageToken: "not-a-token"}, code: IA,
			want: "page_token: not a next_page_token of ListReports"},
		badCase{name: "page_token of 65", as: "root", req: &commonpb.ListReportsRequest{PageToken: badX(65)}, code: IA, want: "page_token: must be at most 64 characters"},
		badCase{name: "page_token invalid UTF-8", as: "root", req: badWire(badStr(4, "AQ"+bad)), code: IA, want: "invalid UTF-8"},
		badCase{name: "page_token with NUL", as: "root", req: &commonpb.ListReportsRequest{PageToken: "AQ\x00"}, code: IA, want: "page_token"},
		badCase{name: "page_token SQL", as: "root", req: &commonpb.ListReportsRequest{PageToken: "'; DROP TABLE common.reports;--"}, code: IA, want: "page_token"},
		badCase{name: "page_token of 8 bytes", as: "root", req: &commonpb.ListReportsRequest{PageToken: badReportToken(1, 0, 0, 0, 0, 0, 0, 9)}, code: IA, want: "page_token"},
		badCase{name: "page_token of 10 bytes", as: "root", req: &commonpb.ListReportsRequest{PageToken: badReportToken(1, 0, 0, 0, 0, 0, 0, 0, 9, 0)}, code: IA, want: "page_token"},
		badCase{name: "page_token version 2", as: "root", req: &commonpb.ListReportsRequest{PageToken: badReportToken(2, 0, 0, 0, 0, 0, 0, 0, 9)}, code: IA, want: "page_token"},
		badCase{name: "page_token in standard base64", as: "root", code: IA, want: "page_token",
			req: &commonpb.ListReportsRequest{PageToken: base64.StdEncoding.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 0, 0xfb, 0xff})}},
		badCase{name: "every report, as a user", req: &commonpb.ListReportsRequest{}, code: codes.PermissionDenied, want: "only Parley admins"},
		badCase{name: "group_id max", req: &commonpb.ListReportsRequest{GroupId: badMaxID}, code: NF, want: "group not found"},
		badCase{name: "group_id max, as root", as: "root", req: &commonpb.ListReportsRequest{GroupId: badMaxID, IncludeResolved: true}, code: OK,
			check: badReportsListed()},
		badCase{name: "page_size 500, page_token of id max", as: "root", code: OK, check: badReportsListed(r.resolved, r.open),
			req: &commonpb.ListReportsRequest{IncludeResolved: true, PageSize: 500, PageToken: badReportToken(1, 255, 255, 255, 255, 255, 255, 255, 255)}},
		badCase{name: "page_token of id 1", as: "root", req: &commonpb.ListReportsRequest{IncludeResolved: true, PageToken: badReportToken(1, 0, 0, 0, 0, 0, 0, 0, 1)},
			code: OK, check: badReportsListed()},
	)
	add(commonpb.CommonService_ResolveReport_FullMethodName,
		badCase{name: "empty", as: "root", req: &commonpb.ResolveReportRequest{}, code: IA, want: "id: is required"},
		badCase{name: "id 0", as: "root", req: &commonpb.ResolveReportRequest{Action: dismiss}, code: IA, want: "id: is required"},
		badCase{name: "action unspecified", as: "root", req: &commonpb.ResolveReportRequest{Id: r.open}, code: IA,
			want: "action: must be dismiss, delete content or ban user, not 0"},
		badCase{name: "action 99", as: "root", req: &commonpb.ResolveReportRequest{Id: r.open, Action: 99}, code: IA, want: "not 99"},
		badCase{name: "action -1", as: "root", req: badWire(badVarint(1, r.open), badVarint(2, badMaxID)), code: IA, want: "not -1"},
		badCase{name: "id max", as: "root", req: &commonpb.ResolveReportRequest{Id: badMaxID, Action: dismiss}, code: NF, want: "report not found"},
		badCase{name: "id max, as a user", req: &commonpb.ResolveReportRequest{Id: badMaxID, Action: dismiss}, code: NF, want: "report not found"},
		// A moderator who may not resolve a report is told it does not exist.
		badCase{name: "by the reported user", req: &commonpb.ResolveReportRequest{Id: r.open, Action: dismiss}, code: NF, want: "report not found"},
		badCase{name: "by its reporter", as: "bob", req: &commonpb.ResolveReportRequest{Id: r.open, Action: dismiss}, code: NF, want: "report not found"},
		badCase{name: "delete content of a user report", as: "root",
			req: &commonpb.ResolveReportRequest{Id: r.open, Action: commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT}, code: IA, want: "a user report has no content to delete"},
		badCase{name: "resolved already", as: "root", req: &commonpb.ResolveReportRequest{Id: r.resolved, Action: dismiss}, code: codes.FailedPrecondition,
			want: "the report was resolved already"},
		badCase{name: "resolved already, banning", as: "root",
			req: &commonpb.ResolveReportRequest{Id: r.resolved, Action: commonpb.ReportAction_REPORT_ACTION_BAN_USER}, code: codes.FailedPrecondition, want: "resolved already"},
	)
}
