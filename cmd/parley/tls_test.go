package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/parley-im/parley/api/gen/commonpb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/testdb"
)

// tlsSelfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files and returns their paths and the certificate.
func tlsSelfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "parley test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile, cert
}

// TestServeOverTLS: with -tls-cert and -tls-key, gRPC is served over TLS
// only; a client trusting the certificate is answered, a plaintext one is
// not. The REST API, whose calls reach the server over its in-process
// connection, works as well.
func TestServeOverTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, cert := tlsSelfSigned(t)
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-database-url", testdb.URL(t), "-data-dir", t.TempDir(),
			"-storage-dir", t.TempDir(), "-grpc-addr", grpcAddr, "-http-addr", httpAddr, "-admin-addr", "",
			"-log-level", "warn", "-tls-cert", certFile, "-tls-key", keyFile}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	secure, err := grpc.NewClient(grpcAddr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})))
	require.NoError(t, err)
	defer secure.Close()
	require.Eventually(t, func() bool {
		resp, err := userpb.NewUserServiceClient(secure).Ping(context.Background(), &commonpb.PingRequest{})
		return err == nil && resp.GetContent() == "pong"
	}, 20*time.Second, 50*time.Millisecond)

	plain, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer plain.Close()
	pingCtx, cancelPing := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancelPing()
	_, err = userpb.NewUserServiceClient(plain).Ping(pingCtx, &commonpb.PingRequest{})
	require.Error(t, err, "a plaintext client must not be served")

	resp, err := http.Get("http://" + httpAddr + "/v1/api/user/ping")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.JSONEq(t, `{"content":"pong"}`, string(body))
}

func TestServeRefusesHalfATLSConfiguration(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := tlsSelfSigned(t)
	for _, flags := range [][]string{{"-tls-cert", certFile}, {"-tls-key", keyFile}, {"-tls-cert", keyFile, "-tls-key", certFile}} {
		args := append([]string{"serve", "-database-url", testdb.URL(t), "-data-dir", t.TempDir(),
			"-storage-dir", t.TempDir(), "-grpc-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-admin-addr", "", "-log-level", "warn"}, flags...)
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		require.ErrorContains(t, err, "-tls-", "flags %q", flags)
	}
}
