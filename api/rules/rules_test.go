package rules_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/parley-im/parley/api/rules"
	"github.com/parley-im/parley/platform/validate"

	_ "github.com/parley-im/parley/api/gen/commonpb" // registers the services' descriptors
	_ "github.com/parley-im/parley/api/gen/feedpb"
	_ "github.com/parley-im/parley/api/gen/gatewaypb"
	_ "github.com/parley-im/parley/api/gen/grouppb"
	_ "github.com/parley-im/parley/api/gen/messagepb"
	_ "github.com/parley-im/parley/api/gen/userpb"
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

// Requests of other services (health, reflection) are not Parley's to check.
func TestOtherServicesRequestsPass(t *testing.T) {
	require.NoError(t, rules.Check(&healthpb.HealthCheckRequest{}))
	require.NoError(t, rules.Check("not a message"))
	unknown := dynamicpb.NewMessage((&healthpb.HealthCheckResponse{}).ProtoReflect().Descriptor())
	require.NoError(t, rules.Check(unknown))
}
