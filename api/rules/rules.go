// Package rules is the one place a request's validation rules are found:
// every request type of Parley's services has one (the package's test
// fails for a type without), kept next to the contract in api/, outside
// the generated code.
package rules

import (
	"fmt"
	"slices"

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

// foreign are the packages of the services grpc-go adds (health checking,
// reflection): their requests are not Parley's to check. Any other request
// without a rule is ErrNoRules, so a new service cannot pass unchecked.
var foreign = []protoreflect.FullName{"grpc.health.v1", "grpc.reflection.v1", "grpc.reflection.v1alpha"}

var all = validate.Index(commonrules.Rules, feedrules.Rules, gatewayrules.Rules, grouprules.Rules, messagerules.Rules, userrules.Rules)

// Check checks a request by its type's rule; a request without one is
// validate.ErrNoRules, unless it is of a service grpc-go adds (foreign).
func Check(req any) error {
	msg, ok := req.(proto.Message)
	if !ok {
		return fmt.Errorf("%T: %w", req, validate.ErrNoRules)
	}
	if slices.Contains(foreign, msg.ProtoReflect().Descriptor().ParentFile().Package()) {
		return nil
	}
	return all.Check(msg)
}
