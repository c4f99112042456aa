package gatewaypb

// Request validators, called by the validation interceptor before a handler
// runs. Hand-written; buf generates the rest of this package.

import "github.com/parley-im/parley/platform/validate"

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

func (r *RegisterRequest) Validate() error   { return validateIDs(r.GetGatewayId(), r.GetClientId()) }
func (r *UnRegisterRequest) Validate() error { return validateIDs(r.GetGatewayId(), r.GetClientId()) }
