package main

import (
	"testing"

	"github.com/parley-im/parley/api/gen/gatewaypb"
)

// badGatewayCases are the GatewayService's rows of badUnaryCases.
func badGatewayCases(t *testing.T, e *badEnv, f badFixtures) badTable {
	var table badTable
	add := table.add
	huge := badOversized(e.cfg)
	reg := func(gatewayID, clientID string) *gatewaypb.RegisterRequest {
		return &gatewaypb.RegisterRequest{GatewayId: gatewayID, ClientId: clientID}
	}
	add(gatewaypb.GatewayService_Register_FullMethodName,
		badCase{name: "empty gateway_id", as: "gateway", req: reg("", "c1"), code: IA, want: "gateway_id"},
		badCase{name: "gateway_id of 65", as: "gateway", req: reg(badX(65), "c1"), code: IA, want: "gateway_id"},
		badCase{name: "empty client_id", as: "gateway", req: reg(badEdgeID, ""), code: IA, want: "client_id"},
		badCase{name: "client_id of 65", as: "gateway", req: reg(badEdgeID, badRunes(65)), code: IA, want: "client_id"},
		badCase{name: "client_id with NUL", as: "gateway", req: reg(badEdgeID, "c\x00"), code: IA, want: "client_id"},
		badCase{name: "gateway_id with no stream", as: "gateway", req: reg("no-such-edge", "c1"), code: NF, want: "gateway_id"},
		badCase{name: "client_id invalid UTF-8", as: "gateway", req: badWire(badStr(1, badEdgeID), badStr(2, bad)), code: IA, want: "invalid UTF-8"},
	)
	add(gatewaypb.GatewayService_UnRegister_FullMethodName,
		badCase{name: "empty", as: "gateway", req: &gatewaypb.UnRegisterRequest{}, code: IA, want: "gateway_id"},
		badCase{name: "client_id of 65", as: "gateway", req: &gatewaypb.UnRegisterRequest{GatewayId: badEdgeID, ClientId: badX(65)}, code: IA, want: "client_id"},
		badCase{name: "unknown client", as: "gateway", req: &gatewaypb.UnRegisterRequest{GatewayId: badEdgeID, ClientId: "nobody"}, code: NF, want: "client_id"},
		badCase{name: "gateway_id invalid UTF-8", as: "gateway", req: badWire(badStr(1, bad), badStr(2, "c1")), code: IA, want: "invalid UTF-8"},
	)
	add(gatewaypb.GatewayService_SendToAll_FullMethodName,
		badCase{name: "over the receive limit", as: "root", req: &gatewaypb.SendToAllRequest{Data: []byte(huge)}, code: RE, want: tooLarge},
		badCase{name: "sender_id invalid UTF-8", as: "root", req: badWire(badStr(2, bad)), code: IA, want: "invalid UTF-8"},
	)
	return table
}
