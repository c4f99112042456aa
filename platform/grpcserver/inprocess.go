package grpcserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"math"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// inProcessBuffer is the in-memory connection's buffer each way.
const inProcessBuffer = 256 << 10

// ServeInProcess serves the server on an in-memory listener as well and
// returns a client connection to it, for transports in this process that
// call the services as clients do (the REST gateway): their calls pass the
// whole interceptor chain, authentication included, without a second port.
// The listener and the connection close when the server stops.
func (s *Server) ServeInProcess() (*grpc.ClientConn, error) {
	if s.inProcess != nil {
		return s.inProcess, nil
	}
	lis := bufconn.Listen(inProcessBuffer)
	go func() { _ = s.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///parley-in-process",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(s.inProcessCredentials()),
		// Responses are bounded by the server, not by this client.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)),
	)
	if err != nil {
		_ = lis.Close()
		return nil, err
	}
	s.inProcess = conn
	return conn, nil
}

// Stop stops the server at once (grpc.Server.Stop), then closes the
// in-process connection.
func (s *Server) Stop() {
	s.Server.Stop()
	s.closeInProcess()
}

// GracefulStop lets calls in flight finish (grpc.Server.GracefulStop), REST
// calls over the in-process connection included, then closes it.
func (s *Server) GracefulStop() {
	s.Server.GracefulStop()
	s.closeInProcess()
}

func (s *Server) closeInProcess() {
	if s.inProcess != nil {
		_ = s.inProcess.Close()
	}
}

// inProcessCredentials are the in-memory connection's: TLS when the server
// serves TLS only, trusting exactly the server's own certificate (the
// connection never leaves the process, and the certificate names the
// public host, not this pipe).
func (s *Server) inProcessCredentials() credentials.TransportCredentials {
	if s.tls == nil || len(s.tls.Certificates) == 0 {
		return insecure.NewCredentials()
	}
	own := s.tls.Certificates[0].Certificate[0]
	return credentials.NewTLS(&tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // replaced by the pinning check below
		// VerifyConnection runs on resumed sessions too.
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, own) {
				return errors.New("in-process connection: the server's certificate is not its own")
			}
			return nil
		},
	})
}

// inProcessPeer is the peer address of calls over the in-memory connection.
const inProcessPeer = "bufconn"
