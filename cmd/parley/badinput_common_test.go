package main

import (
	"fmt"
	"testing"

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
	return table
}
