// Package commonrules holds the rules of common.CommonService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package commonrules

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/platform/validate"
)

const (
	MaxReceivers      = 50
	MaxCc             = 50
	MaxSubjectLength  = 200
	MaxNameLength     = 200
	MaxEmailBodyBytes = 100 << 10
)

// validateAddresses checks a map of display name → address, the original's
// meaning: the name may be empty (the address alone), an address appears
// once.
func validateAddresses(field string, entries map[string]string, min, max int) error {
	if len(entries) < min || len(entries) > max {
		return fmt.Errorf("%s: must have %d–%d addresses", field, min, max)
	}
	seen := make(map[string]bool, len(entries))
	for name, address := range entries {
		parsed, err := mail.ParseAddress(address)
		if err != nil || parsed.Address != address {
			return fmt.Errorf("%s: %q is not an email address (the map is display name → address)", field, address)
		}
		folded := strings.ToLower(address)
		if seen[folded] {
			return fmt.Errorf("%s: %s appears more than once", field, address)
		}
		seen[folded] = true
		if err := validate.Length(field+" name", name, 0, MaxNameLength); err != nil {
			return err
		}
		if err := validate.PlainText(field+" name", name); err != nil {
			return err
		}
	}
	return nil
}

func checkSendEmailRequest(r *commonpb.SendEmailRequest) error {
	if err := validateAddresses("receiver", r.GetReceiver(), 1, MaxReceivers); err != nil {
		return err
	}
	if err := validateAddresses("cc", r.GetCc(), 0, MaxCc); err != nil {
		return err
	}
	subject := strings.TrimSpace(r.GetSubject())
	if err := validate.Length("subject", subject, 1, MaxSubjectLength); err != nil {
		return err
	}
	// CR or LF in a header would let a caller inject headers of their own.
	if err := validate.PlainText("subject", subject); err != nil {
		return err
	}
	if len(r.GetContent()) > MaxEmailBodyBytes {
		return fmt.Errorf("content: must be at most %d bytes", MaxEmailBodyBytes)
	}
	if strings.ContainsRune(r.GetContent(), 0) {
		return errors.New("content: must not contain NUL characters")
	}
	return nil
}

// MaxReportReasonLength bounds a report's reason.
const MaxReportReasonLength = 500

func checkReportContentRequest(r *commonpb.ReportContentRequest) error {
	if r.GetKind() == commonpb.ReportKind_REPORT_KIND_UNSPECIFIED ||
		r.GetKind().Descriptor().Values().ByNumber(r.GetKind().Number()) == nil {
		return fmt.Errorf("kind: must be a ReportKind other than unspecified, not %d", r.GetKind())
	}
	if r.GetId() == 0 {
		return errors.New("id: is required")
	}
	return validate.Text("reason", r.GetReason(), 0, MaxReportReasonLength)
}

func checkListReportsRequest(r *commonpb.ListReportsRequest) error {
	if r.GetPageSize() > 500 {
		return errors.New("page_size: must be at most 500")
	}
	return validate.Length("page_token", r.GetPageToken(), 0, 64)
}

func checkResolveReportRequest(r *commonpb.ResolveReportRequest) error {
	if r.GetId() == 0 {
		return errors.New("id: is required")
	}
	if r.GetAction() == commonpb.ReportAction_REPORT_ACTION_UNSPECIFIED ||
		r.GetAction().Descriptor().Values().ByNumber(r.GetAction().Number()) == nil {
		return fmt.Errorf("action: must be dismiss, delete content or ban user, not %d", r.GetAction())
	}
	return nil
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkSendEmailRequest),
	validate.For(checkReportContentRequest),
	validate.For(checkListReportsRequest),
	validate.For(checkResolveReportRequest),
	// Every service's Ping echoes what it is sent.
	validate.None[*commonpb.PingRequest](),
	// An upload's chunks are bytes; the upload checks their size and format
	// as they come.
	validate.None[*commonpb.UploadImageRequest](),
}
