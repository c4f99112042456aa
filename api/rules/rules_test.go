package rules_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/parley-im/parley/api/rules"
	"github.com/parley-im/parley/platform/validate"

	_ "github.com/parley-im/parley/api/gen/commonpb" // registers the services' descriptors
	_ "github.com/parley-im/parley/api/gen/feedpb"
	_ "github.com/parley-im/parley/api/gen/gatewaypb"
	_ "github.com/parley-im/parley/api/gen/grouppb"
	_ "github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// Every request type of every method of Parley's services has a rule: a
// new method whose request has none fails here, instead of passing
// unchecked.
func TestEveryRequestTypeHasRules(t *testing.T) {
	var missing []string
	methods := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !slices.Contains(rules.Packages, fd.Package()) {
			return true
		}
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				methods++
				req, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
				require.NoError(t, err)
				if err := rules.Check(req.New().Interface()); errors.Is(err, validate.ErrNoRules) {
					missing = append(missing, string(m.FullName())+"("+string(m.Input().FullName())+")")
				}
			}
		}
		return true
	})
	require.Greater(t, methods, 60, "the services' descriptors are registered")
	require.Empty(t, missing, "requests without rules")
}

// Requests of the services grpc-go adds (health, reflection) are not
// Parley's to check; anything else without a rule is refused as a bug.
func TestOnlyGRPCsOwnServicesPassWithoutRules(t *testing.T) {
	require.NoError(t, rules.Check(&healthpb.HealthCheckRequest{}))
	require.NoError(t, rules.Check(&reflectionpb.ServerReflectionRequest{}))
	require.ErrorIs(t, rules.Check("not a message"), validate.ErrNoRules)
	require.ErrorIs(t, rules.Check(&emptypb.Empty{}), validate.ErrNoRules, "a package Parley does not list")
	response := dynamicpb.NewMessage((&userpb.UserGetResponse{}).ProtoReflect().Descriptor())
	require.ErrorIs(t, rules.Check(response), validate.ErrNoRules, "a Parley type that is no request")
}
