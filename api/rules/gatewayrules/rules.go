// Package gatewayrules holds the rules of gateway.GatewayService's requests, which the
// validation interceptor checks before a handler runs (api/rules).
package gatewayrules

import (
	"github.com/parley-im/parley/api/gen/gatewaypb"
	"github.com/parley-im/parley/platform/validate"
)

const maxIDLength = 64

func validateIDs(gatewayID, clientID string) error {
	for _, id := range []struct{ field, value string }{{"gateway_id", gatewayID}, {"client_id", clientID}} {
		if err := validate.Length(id.field, id.value, 1, maxIDLength); err != nil {
			return err
		}
		if err := validate.PlainText(id.field, id.value); err != nil {
			return err
		}
	}
	return nil
}

func checkRegisterRequest(r *gatewaypb.RegisterRequest) error {
	return validateIDs(r.GetGatewayId(), r.GetClientId())
}
func checkUnRegisterRequest(r *gatewaypb.UnRegisterRequest) error {
	return validateIDs(r.GetGatewayId(), r.GetClientId())
}

// Rules are the package's request rules, one per request type.
var Rules = []validate.Rule{
	validate.For(checkRegisterRequest),
	validate.For(checkUnRegisterRequest),
	// A stream's frames are checked by the gateway as they come (cmd,
	// request_id, the request they carry); a broadcast is bytes for admins.
	validate.None[*gatewaypb.SendMessageRequest](),
	validate.None[*gatewaypb.SendToAllRequest](),
}
