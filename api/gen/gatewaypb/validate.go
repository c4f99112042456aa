package gatewaypb

// Request validators, called by the validation interceptor before a handler
// runs. Hand-written; buf generates the rest of this package.

import "github.com/parley-im/parley/platform/validate"

const maxIDLength = 64

func validateIDs(gatewayID, clientID string) error {
	if err := validate.Length("gateway_id", gatewayID, 1, maxIDLength); err != nil {
		return err
	}
	return validate.Length("client_id", clientID, 1, maxIDLength)
}

func (r *RegisterRequest) Validate() error   { return validateIDs(r.GetGatewayId(), r.GetClientId()) }
func (r *UnRegisterRequest) Validate() error { return validateIDs(r.GetGatewayId(), r.GetClientId()) }
