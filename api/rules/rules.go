// Package rules is the one place a request's validation rules are found:
// every request type of Parley's services has one (the package's test
// fails for a type without), kept next to the contract in api/, outside
// the generated code.
package rules

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/parley-im/parley/api/rules/commonrules"
	"github.com/parley-im/parley/api/rules/feedrules"
	"github.com/parley-im/parley/api/rules/gatewayrules"
	"github.com/parley-im/parley/api/rules/grouprules"
	"github.com/parley-im/parley/api/rules/messagerules"
	"github.com/parley-im/parley/api/rules/userrules"
	"github.com/parley-im/parley/platform/validate"
)

// Packages are the proto packages of Parley's services.
var Packages = []protoreflect.FullName{"common", "feed", "gateway", "group", "message", "user"}

var all = validate.Index(commonrules.Rules, feedrules.Rules, gatewayrules.Rules, grouprules.Rules, messagerules.Rules, userrules.Rules)

// Check checks a request by its type's rule. A request of Parley's services
// without a rule is validate.ErrNoRules; other services' requests (health,
// reflection) have none to check.
func Check(req any) error {
	msg, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	pkg := msg.ProtoReflect().Descriptor().ParentFile().Package()
	for _, ours := range Packages {
		if pkg == ours {
			return all.Check(msg)
		}
	}
	return nil
}
