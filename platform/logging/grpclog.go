package logging

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/grpclog"
)

// grpcTarget is where grpc-go's and grpc-gateway's own log lines go; nil
// drops them.
var grpcTarget atomic.Pointer[zerolog.Logger]

// RouteGRPCLogs makes grpclog, which grpc-go and grpc-gateway log through
// (to stderr as plain text by default), write to the logger SetGRPCLogger
// names. Call it once at program start, before any gRPC use: grpclog's
// logger is not safe to replace after.
func RouteGRPCLogs() { grpclog.SetLoggerV2(grpcLogger{}) }

// SetGRPCLogger sends grpclog's lines to log, tagged component=grpc. Their
// errors are mostly a client's (a REST body that does not decode), so they
// are warnings; warnings are info and info lines debug.
func SetGRPCLogger(log zerolog.Logger) {
	l := log.With().Str("component", "grpc").Logger()
	grpcTarget.Store(&l)
}

type grpcLogger struct{}

func (grpcLogger) write(level zerolog.Level, msg string) {
	if log := grpcTarget.Load(); log != nil {
		log.WithLevel(level).Msg(msg)
	}
}

func (g grpcLogger) Info(args ...any)   { g.write(zerolog.DebugLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any) { g.write(zerolog.DebugLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Infof(f string, args ...any) {
	g.write(zerolog.DebugLevel, fmt.Sprintf(f, args...))
}
func (g grpcLogger) Warning(args ...any)   { g.write(zerolog.InfoLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any) { g.write(zerolog.InfoLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(f string, args ...any) {
	g.write(zerolog.InfoLevel, fmt.Sprintf(f, args...))
}
func (g grpcLogger) Error(args ...any)   { g.write(zerolog.WarnLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any) { g.write(zerolog.WarnLevel, fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(f string, args ...any) {
	g.write(zerolog.WarnLevel, fmt.Sprintf(f, args...))
}

// grpclog's Fatal logs, then exits.
func (g grpcLogger) Fatal(args ...any) { g.write(zerolog.FatalLevel, fmt.Sprint(args...)); os.Exit(1) }
func (g grpcLogger) Fatalln(args ...any) {
	g.write(zerolog.FatalLevel, fmt.Sprint(args...))
	os.Exit(1)
}
func (g grpcLogger) Fatalf(f string, args ...any) {
	g.write(zerolog.FatalLevel, fmt.Sprintf(f, args...))
	os.Exit(1)
}

// V leaves grpc-go's verbose lines out.
func (grpcLogger) V(int) bool { return false }
