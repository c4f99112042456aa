package app

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/common/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
)

// What reports need of the other modules: who may see a piece of content
// and whose it is, and the moderators' actions on it. Lookups answer
// NotFound for content the viewer cannot see.
type (
	Messages interface {
		ReportedMessage(ctx context.Context, viewerID, id uint64) (senderID, groupID uint64, err error)
		RecallAsModerator(ctx context.Context, moderator auth.Identity, id uint64) error
	}
	Feeds interface {
		FeedAuthor(ctx context.Context, viewer auth.Identity, id uint64) (uint64, error)
		DeleteFeed(ctx context.Context, caller auth.Identity, id uint64) error
		CommentAuthor(ctx context.Context, viewer auth.Identity, id uint64) (uint64, error)
		DeleteComment(ctx context.Context, caller auth.Identity, id uint64) error
	}
	Users interface {
		GetUser(ctx context.Context, id uint64) (*userpb.User, error)
		Suspend(ctx context.Context, userID uint64) error
	}
	Groups interface {
		OwnerID(ctx context.Context, groupID uint64) (uint64, error)
		IsStaff(ctx context.Context, groupID, userID uint64) (bool, error)
		BanByModerator(ctx context.Context, moderatorID, groupID, userID uint64, reason string, parleyAdmin bool) error
		DeleteByAdmin(ctx context.Context, adminID, groupID uint64) error
	}
)

// Content is the modules reports reach.
type Content struct {
	Messages Messages
	Feeds    Feeds
	Users    Users
	Groups   Groups
}

// Limits on reports.
const (
	MaxOpenReportsPerUser = 50 // a reporter's open reports; more wait until some are resolved
	DefaultReportPage     = 100
	MaxReportPage         = 500
)

var (
	ErrReportNotFound   = apperr.NotFound("report not found")
	ErrReportOwn        = apperr.InvalidArgument("id: you cannot report your own content")
	ErrTooManyReports   = apperr.ResourceExhausted("you have %d open reports: wait until some are resolved", MaxOpenReportsPerUser)
	ErrAllReports       = apperr.PermissionDenied("only Parley admins may list every report: set group_id to list a group's")
	ErrGroupReports     = apperr.PermissionDenied("only the group's owner, its admins and Parley admins may list its reports")
	ErrResolved         = apperr.FailedPrecondition("the report was resolved already")
	ErrNothingToDelete  = apperr.InvalidArgument("action: a user report has no content to delete: dismiss it or ban the user")
	errBadReportToken   = apperr.InvalidArgument("page_token: not a next_page_token of ListReports")
	reportTokenEncoding = base64.RawURLEncoding
)

// reportTokenVersion begins a page token (then the last id answered), so
// a later format can tell its own.
const reportTokenVersion = 1

// Reports files reports and lets moderators resolve them.
type Reports struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	content Content
}

func NewReports(pool *pgxpool.Pool, content Content) *Reports {
	return &Reports{pool: pool, q: db.New(pool), content: content}
}

// Report is what the module answers of a report.
type Report struct {
	ID                    uint64
	Kind                  commonpb.ReportKind
	ContentID, ReporterID uint64
	Reason                string
	AuthorID, GroupID     uint64
	CreatedAt             time.Time
	Resolution            commonpb.ReportAction // unspecified while open
	ResolvedBy            uint64
	ResolvedAt            *time.Time
}

func reportOf(r db.CommonReport) Report {
	return Report{
		ID: r.ID, Kind: commonpb.ReportKind(r.Kind), ContentID: r.ContentID, ReporterID: r.ReporterID, Reason: r.Reason,
		AuthorID: r.AuthorID, GroupID: r.GroupID, CreatedAt: r.CreatedAt,
		Resolution: commonpb.ReportAction(r.Resolution), ResolvedBy: r.ResolvedBy, ResolvedAt: r.ResolvedAt,
	}
}

// File reports content the caller can see. A second report of the same
// content while the first is open answers the first.
func (r *Reports) File(ctx context.Context, caller auth.Identity, kind commonpb.ReportKind, id uint64, reason string) (Report, error) {
	author, groupID, err := r.locate(ctx, caller, kind, id)
	if err != nil {
		return Report{}, err
	}
	if author == caller.UserID {
		return Report{}, ErrReportOwn
	}
	open := db.FindOpenReportParams{ReporterID: caller.UserID, Kind: int16(kind), ContentID: id}
	if found, err := r.q.FindOpenReport(ctx, open); err == nil {
		return reportOf(found), nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return Report{}, fmt.Errorf("find report: %w", err)
	}
	var filed db.CommonReport
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := r.q.WithTx(tx)
		// Serialises one reporter's reports, so the cap holds.
		if err := q.LockReporter(ctx, int64(caller.UserID)); err != nil {
			return err
		}
		n, err := q.CountOpenReportsBy(ctx, caller.UserID)
		if err != nil {
			return err
		}
		if n >= MaxOpenReportsPerUser {
			return ErrTooManyReports
		}
		filed, err = q.CreateReport(ctx, db.CreateReportParams{
			Kind: int16(kind), ContentID: id, ReporterID: caller.UserID, Reason: reason, AuthorID: author, GroupID: groupID,
		})
		if errors.Is(err, pgx.ErrNoRows) { // filed meanwhile by a concurrent call
			filed, err = q.FindOpenReport(ctx, open)
		}
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("file report: %w", err)
	}
	return reportOf(filed), nil
}

// locate is whose the content is and its group (a group message's), if
// the viewer can see it.
func (r *Reports) locate(ctx context.Context, viewer auth.Identity, kind commonpb.ReportKind, id uint64) (author, groupID uint64, err error) {
	switch kind {
	case commonpb.ReportKind_REPORT_KIND_MESSAGE:
		return r.content.Messages.ReportedMessage(ctx, viewer.UserID, id)
	case commonpb.ReportKind_REPORT_KIND_FEED:
		author, err = r.content.Feeds.FeedAuthor(ctx, viewer, id)
	case commonpb.ReportKind_REPORT_KIND_COMMENT:
		author, err = r.content.Feeds.CommentAuthor(ctx, viewer, id)
	case commonpb.ReportKind_REPORT_KIND_USER:
		_, err = r.content.Users.GetUser(ctx, id)
		author = id
	case commonpb.ReportKind_REPORT_KIND_GROUP:
		author, err = r.content.Groups.OwnerID(ctx, id)
	default:
		err = apperr.InvalidArgument("kind: %d is not a kind of report", kind)
	}
	return author, 0, err
}

// List pages reports newest first: every report for a Parley admin
// (groupID 0), or a group's message reports for its owner and admins.
func (r *Reports) List(ctx context.Context, caller auth.Identity, groupID uint64, includeResolved bool, pageSize uint32, pageToken string) ([]Report, string, error) {
	if err := r.mayModerate(ctx, caller, groupID); err != nil {
		return nil, "", err
	}
	before := uint64(math.MaxInt64)
	if pageToken != "" {
		b, err := reportTokenEncoding.DecodeString(pageToken)
		if err != nil || len(b) != 9 || b[0] != reportTokenVersion {
			return nil, "", errBadReportToken
		}
		before = binary.BigEndian.Uint64(b[1:])
	}
	limit := int(pageSize)
	if limit == 0 {
		limit = DefaultReportPage
	}
	limit = min(limit, MaxReportPage)
	rows, err := r.q.ListReports(ctx, db.ListReportsParams{
		BeforeID: before, GroupID: int64(groupID), IncludeResolved: includeResolved, RowLimit: int64(limit + 1),
	})
	if err != nil {
		return nil, "", fmt.Errorf("list reports: %w", err)
	}
	var next string
	if len(rows) > limit {
		rows = rows[:limit]
		next = reportTokenEncoding.EncodeToString(binary.BigEndian.AppendUint64([]byte{reportTokenVersion}, rows[limit-1].ID))
	}
	reports := make([]Report, len(rows))
	for i, row := range rows {
		reports[i] = reportOf(row)
	}
	return reports, next, nil
}

// mayModerate lets Parley admins moderate every report and a group's
// owner and admins its message reports (groupID set).
func (r *Reports) mayModerate(ctx context.Context, caller auth.Identity, groupID uint64) error {
	if caller.Admin {
		return nil
	}
	if groupID == 0 {
		return ErrAllReports
	}
	staff, err := r.content.Groups.IsStaff(ctx, groupID, caller.UserID)
	if err != nil {
		return err
	}
	if !staff {
		return ErrGroupReports
	}
	return nil
}

// Resolve acts on an open report and closes it, under its row lock: a
// second resolution is ErrResolved. A moderator who may not see the report
// gets ErrReportNotFound. Content gone meanwhile counts as deleted.
func (r *Reports) Resolve(ctx context.Context, caller auth.Identity, id uint64, action commonpb.ReportAction) (Report, error) {
	var resolved db.CommonReport
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		q := r.q.WithTx(tx)
		rep, err := q.LockReport(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrReportNotFound
		}
		if err != nil {
			return err
		}
		if err := r.mayModerate(ctx, caller, rep.GroupID); err != nil {
			return ErrReportNotFound
		}
		if rep.Resolution != 0 {
			return ErrResolved
		}
		if err := r.act(ctx, caller, rep, action); err != nil {
			return err
		}
		resolved, err = q.ResolveReport(ctx, db.ResolveReportParams{ID: rep.ID, Resolution: int16(action), ResolvedBy: caller.UserID})
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("resolve report %d: %w", id, err)
	}
	return reportOf(resolved), nil
}

// act carries out a resolution. The other modules' actions are each
// idempotent, so a resolution retried after a failure to close the report
// does no harm.
func (r *Reports) act(ctx context.Context, moderator auth.Identity, rep db.CommonReport, action commonpb.ReportAction) error {
	kind := commonpb.ReportKind(rep.Kind)
	var err error
	switch action {
	case commonpb.ReportAction_REPORT_ACTION_DISMISS:
		return nil
	case commonpb.ReportAction_REPORT_ACTION_DELETE_CONTENT:
		switch kind {
		case commonpb.ReportKind_REPORT_KIND_MESSAGE:
			err = r.content.Messages.RecallAsModerator(ctx, moderator, rep.ContentID)
		case commonpb.ReportKind_REPORT_KIND_FEED:
			err = r.content.Feeds.DeleteFeed(ctx, moderator, rep.ContentID)
		case commonpb.ReportKind_REPORT_KIND_COMMENT:
			err = r.content.Feeds.DeleteComment(ctx, moderator, rep.ContentID)
		case commonpb.ReportKind_REPORT_KIND_GROUP:
			err = r.content.Groups.DeleteByAdmin(ctx, moderator.UserID, rep.ContentID)
		default:
			return ErrNothingToDelete
		}
	case commonpb.ReportAction_REPORT_ACTION_BAN_USER:
		if rep.GroupID != 0 {
			err = r.content.Groups.BanByModerator(ctx, moderator.UserID, rep.GroupID, rep.AuthorID, rep.Reason, moderator.Admin)
		} else {
			err = r.content.Users.Suspend(ctx, rep.AuthorID)
		}
	default:
		return apperr.InvalidArgument("action: %d is not an action", action)
	}
	if status.Code(err) == codes.NotFound { // gone already
		return nil
	}
	return err
}
